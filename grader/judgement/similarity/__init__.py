"""Similarity between the submissions of a class: which ones share code beyond the starter.

The pieces, each with one job:

- `settings`: the rubric's optional `[similarity]` section (threshold, which starter to subtract);
- `documents`: a submission's code as text (module files, scripts, a notebook's code cells),
  read from the folder or zip without running anything;
- `fingerprint`: code text -> normalised tokens -> winnowed k-gram fingerprints, stable across
  processes, so they can be computed in a worker and cached by content hash;
- `index`: an inverted index fingerprint -> submissions that finds the pairs sharing code,
  their scores, the clusters, and the matching regions of one pair.

Drawing the pages is presentation's job (grader/presentation/similarity_pages.py); reading and
writing the gradebook and the output folder is the orchestration's (grader/similarity.py).
"""
