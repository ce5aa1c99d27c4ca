/* The table of the recording ops, in the order `neurodag help` lists them; the op registry
 * looks names up in it. */
#include "worker/ops/rec/op-rec.h"

extern const struct op_rec op_rec_detect_triggers, op_rec_align_slices, op_rec_align_subsample,
    op_rec_aas_realign, op_rec_epoch_offset;
extern const struct op_rec op_rec_highpass, op_rec_lowpass, op_rec_bandpass, op_rec_notch,
    op_rec_upsample, op_rec_downsample, op_rec_resample;
extern const struct op_rec op_rec_aas, op_rec_pca, op_rec_anc;
extern const struct op_rec op_rec_metrics, op_rec_export_edf, op_rec_report;
extern const struct op_rec op_rec_pick_channels, op_rec_drop_channels, op_rec_crop,
    op_rec_paste_window;
extern const struct op_rec op_rec_slice_triggers, op_rec_complete_triggers, op_rec_volume_artifact;
extern const struct op_rec op_rec_detect_rpeaks, op_rec_pulse_aas, op_rec_pulse_obs;

const struct op_def *const op_rec_table[] = {
    &op_rec_detect_triggers.def,
    &op_rec_pick_channels.def,
    &op_rec_drop_channels.def,
    &op_rec_crop.def,
    &op_rec_slice_triggers.def,
    &op_rec_complete_triggers.def,
    &op_rec_highpass.def,
    &op_rec_lowpass.def,
    &op_rec_bandpass.def,
    &op_rec_notch.def,
    &op_rec_upsample.def,
    &op_rec_downsample.def,
    &op_rec_resample.def,
    &op_rec_epoch_offset.def,
    &op_rec_align_slices.def,
    &op_rec_align_subsample.def,
    &op_rec_aas_realign.def,
    &op_rec_aas.def,
    &op_rec_pca.def,
    &op_rec_anc.def,
    &op_rec_volume_artifact.def,
    &op_rec_detect_rpeaks.def,
    &op_rec_pulse_aas.def,
    &op_rec_pulse_obs.def,
    &op_rec_paste_window.def,
    &op_rec_metrics.def,
    &op_rec_export_edf.def,
    &op_rec_report.def,
    NULL,
};
