/* A synthetic EEG-fMRI recording as labs have them: the gradient generator's recording, plus
 * optionally the cardiac model (pulse artifact on the scalp channels and an in-scanner ECG),
 * trigger marks with missing slices or only volume starts, and an ECG-only montage; written
 * as recording.edf, its ground truth clean.edf and truth.json (every trigger, the marked ones,
 * the R peaks). */
#ifndef ND_SYNTH_SCAN_H
#define ND_SYNTH_SCAN_H

#include "worker/synth/synth-fmri.h"
#include "worker/synth/synth-marks.h"
#include "worker/synth/synth-pulse.h"

struct synth_scan_params {
	struct synth_fmri_params fmri;
	int pulse; /* add the pulse artifact and the in-scanner ECG lead */
	struct synth_pulse_params pulse_p;
	struct synth_marks_params marks;
	int ecg_only; /* write only the ECG channel */
};

/* The generators' defaults; no pulse, every slice marked, every channel. */
void synth_scan_params_init(struct synth_scan_params *p);

/* Write the recording (clean + gradient artifact [+ pulse artifact], with the marks as
 * annotations "1"), its ground truth (clean signals, every trigger annotated) and truth.json.
 * Any path may be NULL to skip that file. The cardiac and mark seeds follow fmri.seed. */
int synth_scan_write(const struct synth_scan_params *p, const char *recording_path,
		     const char *clean_path, const char *truth_path, char **cause);

#endif
