# Appended by the grader after the student's cells, run in the student's kernel.
# It hands the grader the tuned model to measure itself; whatever it prints is a claim.
import os as _grader_os
import shutil as _grader_shutil

import numpy as _grader_np

for _grader_name in ("best_net.npz", "best_net.pkl"):
    if _grader_os.path.isfile(_grader_name):
        _grader_shutil.copy(_grader_name, "{out}/notebook_" + _grader_name)
try:
    _grader_np.savez("{out}/kernel_best_net.npz",
                     **{_k: _grader_np.asarray(best_net.params[_k], dtype=float) for _k in ("W1", "b1", "W2", "b2")})
except Exception as _grader_error:  # noqa: BLE001
    print("the grader could not read best_net.params:", type(_grader_error).__name__, _grader_error)
for _grader_stats in ("stats_best_net", "stats_LRDecay", "stats"):
    try:
        _grader_np.save("{out}/loss_history.npy",
                        _grader_np.asarray(globals()[_grader_stats]["loss_history"], dtype=float)[-20000:])
        break
    except Exception:  # noqa: BLE001
        pass
