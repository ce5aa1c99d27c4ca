"""neurodag from Python: a client of the scheduler's HTTP API (Client, Job), correction of
mne.io.Raw recordings (correct) and the trial methods on numpy arrays (freqanalysis ...).
Standard library only; numpy, h5py and MNE are imported when a function needs them."""
from .client import Client, Job, JobFailed, NeurodagError, read_token
from .mne_bridge import correct
from .trials import (LabeledArray, connectivityanalysis, freqanalysis, preprocessing,
                     read_container, resampledata, run_method)

__version__ = "0.1.0"
__all__ = ["Client", "Job", "JobFailed", "NeurodagError", "read_token", "correct",
           "LabeledArray", "freqanalysis", "connectivityanalysis", "preprocessing",
           "resampledata", "run_method", "read_container"]
