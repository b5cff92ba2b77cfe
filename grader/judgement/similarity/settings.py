"""The rubric's `[similarity]` section, read in one place so that it is easy to move.

Every key is optional; a rubric without the section gets the defaults below:

    [similarity]
    threshold = 0.6                          # pairs scoring at least this are flagged for a TA
    starter = "../../reference/hw4/starter"  # code handed out, subtracted from every submission
    common_fraction = 0.5                    # code in more than this share of submissions (and in
    common_min = 20                          #   more than common_min) is everyone's, not a copy
    files = ["cattern/neural_net.py"]        # what counts as code; default: the .py/.ipynb of [files]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CODE_SUFFIXES = (".py", ".ipynb")


class SimilaritySettingsError(ValueError):
    """The `[similarity]` section is malformed: a message for the course staff."""


@dataclass(frozen=True)
class SimilaritySettings:
    threshold: float = 0.6
    starter: Path | None = None
    common_fraction: float = 0.5
    common_min: int = 20
    files: tuple[str, ...] = ()

    def common_cutoff(self, n_submissions: int) -> int:
        """A fingerprint found in more submissions than this is shared by everyone: ignored.

        Generous on purpose: a ring of students who all copied one source (a leaked solution) must
        not vanish as "common code"; a class of 30 keeps everything, a class of 1,000 drops only
        what more than 500 wrote.
        """
        return max(self.common_min, int(self.common_fraction * n_submissions))


def load_settings(rubric_path: Path, rubric_id: str, rubric_files: dict[str, str],
                  data_root: Path | None = None) -> SimilaritySettings:
    """Read `[similarity]` from the rubric file; the starter defaults to `reference/<id>/starter/`."""
    try:
        section = tomllib.loads(rubric_path.read_text()).get("similarity", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SimilaritySettingsError(f"{rubric_path}: {exc}") from None
    return settings_from_table(section, str(rubric_path), rubric_path.parent, rubric_id, rubric_files, data_root)


def settings_from_table(section: dict, where: str, folder: Path, rubric_id: str, rubric_files: dict[str, str],
                        data_root: Path | None = None) -> SimilaritySettings:
    """The `[similarity]` table as settings; `folder` is the rubric's, against which `starter` resolves.

    The strict rubric loader calls this too, so a wrong value is an error when the rubric loads."""
    known = {"threshold", "starter", "common_fraction", "common_min", "files"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise SimilaritySettingsError(f"{where}: [similarity] has unknown keys {unknown}; "
                                      f"known: {sorted(known)}")
    threshold = section.get("threshold", SimilaritySettings.threshold)
    fraction = section.get("common_fraction", SimilaritySettings.common_fraction)
    common_min = section.get("common_min", SimilaritySettings.common_min)
    if not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        raise SimilaritySettingsError(f"{where}: [similarity] threshold must be a number in (0, 1]")
    if not isinstance(fraction, int | float) or not 0 < fraction <= 1:
        raise SimilaritySettingsError(f"{where}: [similarity] common_fraction must be a number in (0, 1]")
    if not isinstance(common_min, int) or common_min < 2:
        raise SimilaritySettingsError(f"{where}: [similarity] common_min must be an integer >= 2")
    if "starter" in section:
        starter: Path | None = (folder / section["starter"]).resolve()
        if not starter.is_dir():
            raise SimilaritySettingsError(f"{where}: [similarity] starter {starter} is not a folder")
    else:
        default = (data_root or folder.parent.parent) / "reference" / rubric_id / "starter"
        starter = default if default.is_dir() else None
    files = section.get("files")
    if files is None:
        files = [rel for rel in rubric_files.values() if rel.endswith(CODE_SUFFIXES)]
    elif not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
        raise SimilaritySettingsError(f"{where}: [similarity] files must be a list of paths")
    return SimilaritySettings(float(threshold), starter, float(fraction), common_min, tuple(files))
