"""What a run records about where it ran: the revision of an install that is not a checkout."""
import json

from bench.environment import installed_revision, revision_from_direct_url


def test_a_git_install_records_the_commit_pip_resolved():
    # As pip writes it for `pip install git+https://host/repo@v1` (PEP 610, "VCS URLs").
    commit = "5608ce8991af67314b3d7aee4c602e374487146e"
    text = json.dumps({"url": "https://host/repo",
                       "vcs_info": {"vcs": "git", "requested_revision": "v1", "commit_id": commit}})
    assert revision_from_direct_url(text) == commit


def test_folder_and_index_installs_have_no_revision_to_record():
    assert revision_from_direct_url(json.dumps({"url": "file:///src/bench", "dir_info": {}})) is None
    assert revision_from_direct_url(json.dumps({"url": "file:///src", "dir_info": {"editable": True}})) is None
    assert revision_from_direct_url(None) is None  # from an index: no direct_url.json
    assert revision_from_direct_url("not json") is None
    assert installed_revision("no-such-distribution-here") is None
