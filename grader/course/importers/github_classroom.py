"""GitHub Classroom: a folder of the students' cloned repositories (as GitHub Classroom Assistant
or `gh classroom clone student-repos` leaves them: `<assignment>-<github username>/`).

Each repository is read with dulwich, a pure-Python git: it reads objects and runs nothing a
repository's own `.git/config` could name (hooks, fsmonitor, filters), and it writes nothing,
so the clones are never modified. The submission is the commit at the student's deadline: on
HEAD's first-parent history, the newest commit whose committer date is at or before the rubric's
due date plus the student's extension (from an earlier roster.csv). A student with no commit by
then is taken at the newest commit instead, and that commit's date is the submission time, so
the late policy applies. Commit dates are written by the student's own git and can be forged;
GitHub's push times are not in a clone.

The optional course roster is GitHub Classroom's roster export (`identifier, github_username,
github_id, name`): it names each repository's student (a repository is matched when its folder
ends in `-<github_username>`) and lists the students who have no repository.
"""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from dulwich.errors import NotGitRepository
from dulwich.objects import Commit
from dulwich.repo import Repo

from grader.course.importers.model import Harvest, Harvested, Issue, IssueKind, Upload
from grader.course.roster import RosterEntry, RosterError, course_csv
from grader.execution.workspace import JUNK_NAMES, MAX_FILE_BYTES, MAX_TOTAL_BYTES
from grader.lateness import LatePolicy, extension_delta, format_instant


def read_course_roster(path: Path) -> dict[str, RosterEntry]:
    """GitHub Classroom's roster export, by GitHub username (lower-cased: GitHub ignores case)."""
    reader = course_csv(path, {"identifier", "github_username"},
                        "a GitHub Classroom roster (expected identifier, github_username, github_id, name)")
    entries = {}
    for row in reader:
        user = (row.get("github_username") or "").strip()
        ident = (row.get("identifier") or "").strip()
        key = user or ident
        if not key:
            continue
        entries[key.lower()] = RosterEntry(student=user or ident, name=(row.get("name") or "").strip(),
                                           email=ident if "@" in ident else "", sis_user_id=ident,
                                           source="github")
    return entries


def _username(folder: str, names: list[str], known: dict[str, RosterEntry]) -> str:
    for user in sorted(known, key=len, reverse=True):
        if folder.lower() == user or folder.lower().endswith("-" + user):
            return user
    if len(names) > 1:  # strip the assignment prefix all repositories share (`hw4-`)
        prefix = names[0]
        for other in names[1:]:
            while not other.startswith(prefix):
                prefix = prefix[:-1]
        cut = prefix.rfind("-") + 1
        if 0 < cut < len(folder):
            return folder[cut:]
    return folder


def _when(commit: Commit) -> datetime:
    return datetime.fromtimestamp(commit.commit_time, UTC)


def _first_parent_chain(repo: Repo, head: bytes) -> list[Commit]:
    chain: list[Commit] = []
    sha: bytes | None = head
    while sha is not None and len(chain) < 100_000:
        commit = repo[sha]
        assert isinstance(commit, Commit)
        chain.append(commit)
        sha = commit.parents[0] if commit.parents else None
    return chain


def _tree_files(repo: Repo, commit: Commit, origin: str, issues: list[Issue], student: str) -> list[Upload]:
    uploads: list[Upload] = []
    total = 0
    for item in repo.object_store.iter_tree_contents(commit.tree):
        path = PurePosixPath(item.path.decode("utf-8", "replace"))
        if any(p in JUNK_NAMES or p in ("", "..") for p in path.parts) or path.is_absolute():
            continue
        if stat.S_ISLNK(item.mode) or stat.S_ISDIR(item.mode) or item.mode == 0o160000:
            issues.append(Issue(IssueKind.REFUSED, student, f"{path}: a link or submodule, not copied"))
            continue
        blob = repo[item.sha]
        data = blob.as_raw_string()
        total += len(data)
        if len(data) > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            issues.append(Issue(IssueKind.REFUSED, student, f"{path}: the repository holds more than the grader "
                                "takes from one submission; the rest is not copied"))
            break
        uploads.append(Upload(str(path), data, f"{origin}@{commit.id.decode()[:8]}:{path}"))
    return uploads


def read(download: Path, course_roster: Path | None = None, policy: LatePolicy | None = None,
         previous: dict[str, RosterEntry] | None = None, **_: object) -> Harvest:
    harvest = Harvest()
    if not download.is_dir():
        raise RosterError(f"{download}: GitHub Classroom's download is a folder of cloned repositories")
    known = read_course_roster(course_roster) if course_roster else {}
    previous = previous or {}
    folders = sorted(p for p in download.iterdir() if not p.name.startswith("."))
    repos = [p for p in folders if p.is_dir()]
    for stray in (p for p in folders if not p.is_dir()):
        harvest.issues.append(Issue(IssueKind.STRAY, "", f"{stray.name}: not a repository: belongs to no student"))
    names = [p.name for p in repos]
    seen: set[str] = set()
    for folder in repos:
        user = _username(folder.name, names, known)
        seen.add(user.lower())
        base = known.get(user.lower()) or RosterEntry(student=user, source="github")
        old = previous.get(base.student)
        student = Harvested(base.with_(source="github", extension=old.extension if old else ""), slug=user)
        harvest.students.append(student)
        if known and user.lower() not in known:
            student.issues.append(Issue(IssueKind.NOT_IN_ROSTER, user, f"{folder.name} matches no github_username "
                                        f"in {course_roster}"))
        try:
            repo = Repo(str(folder))
        except NotGitRepository:
            student.issues.append(Issue(IssueKind.STRAY, user, f"{folder.name}/ is not a git repository: not read"))
            continue
        with repo:
            try:
                head = repo.head()
            except KeyError:
                continue  # no commit at all: nothing submitted
            chain = _first_parent_chain(repo, head)
            chosen = chain[0]
            if policy is not None:
                deadline = policy.due + extension_delta(student.entry.extension, policy.due)
                on_time = [c for c in chain if _when(c) <= deadline]
                if on_time:
                    chosen = on_time[0]
                    later = chain.index(chosen)
                    if later:
                        student.issues.append(Issue(IssueKind.RESUBMISSION, user, f"{later} commit(s) after the "
                                                    f"deadline {format_instant(deadline)} ignored; the newest is from "
                                                    f"{format_instant(_when(chain[0]))}"))
                else:
                    student.issues.append(Issue(IssueKind.LATE, user, f"no commit by {format_instant(deadline)}: "
                                                f"took the newest, from {format_instant(_when(chosen))}"))
            earlier = len(chain) - chain.index(chosen) - 1
            if earlier:
                student.issues.append(Issue(IssueKind.RESUBMISSION, user, f"commit {chosen.id.decode()[:8]} used; "
                                            f"{earlier} earlier commit(s) before it"))
            student.entry = student.entry.with_(submitted_at=_when(chosen),
                                                notes=f"commit {chosen.id.decode()}")
            student.uploads = _tree_files(repo, chosen, folder.name, student.issues, user)
    harvest.students += [Harvested(e.with_(extension=(previous.get(e.student).extension if e.student in previous
                                                      else "")), slug=e.student)
                         for key, e in known.items() if key not in seen]
    return harvest
