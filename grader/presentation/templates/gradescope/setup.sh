#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# The autograder zip holds: setup.sh, run_autograder, secret (and optionally a grader wheel or
# checkout). Replace the install line with your course's grader source.
set -euo pipefail
apt-get install -y python3 python3-pip python3-venv bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install "git+https://github.com/YOUR-COURSE/grader.git"
chmod 600 /autograder/source/secret
