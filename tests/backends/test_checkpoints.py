"""Checkpoints: a run that writes them ends as one that does not; going on from any of them, on the
local backend or on Ray with another shard count, gives the uninterrupted run's digest, states and
event count; a fork with a change differs from there on only; bad files and folders are named."""

import pytest

import qactors
from qactors import CheckpointPlan, MS
from qactors.backends.checkpoint import read_header
from qactors.demo import ping_ring

UNTIL = 6 * MS


@pytest.fixture(scope="module")
def reference():
    return qactors.run(ping_ring(6), until_ps=UNTIL, seed=7)


@pytest.fixture(scope="module")
def written(tmp_path_factory, reference):
    folder = tmp_path_factory.mktemp("ckpt")
    result = qactors.run(ping_ring(6), until_ps=UNTIL, seed=7, checkpoints=CheckpointPlan(folder, every_ps=2 * MS,
                                                                                          keep=5))
    assert result.digest == reference.digest and result.events == reference.events
    return folder, [p for p in result.stats["checkpoints"]]


def test_checkpoints_are_written_at_each_interval_and_latest_names_the_newest(written):
    folder, paths = written
    assert [read_header(p)["time_ps"] for p in paths] == [2 * MS, 4 * MS]
    header = read_header(paths[-1])
    assert header["until_ps"] == UNTIL and header["seed"] == 7 and header["actors"] == len(ping_ring(6))
    import json
    assert json.loads((folder / "latest.json").read_text())["file"] == paths[-1].rsplit("/", 1)[-1]


def test_resuming_from_any_checkpoint_gives_the_uninterrupted_result(written, reference):
    _, paths = written
    for path in paths:
        r = qactors.resume(path)
        assert (r.digest, r.events, r.states) == (reference.digest, reference.events, reference.states)
        assert r.stats["resumed_from_ps"] == read_header(path)["time_ps"]
    assert qactors.resume(written[0]).digest == reference.digest  # a folder: its newest


@pytest.mark.ray
def test_resuming_on_ray_and_writing_on_ray_give_the_same_result(ray_session, written, reference, tmp_path):
    r = qactors.resume(written[1][0], backend="ray:2")
    assert (r.digest, r.events, r.states) == (reference.digest, reference.events, reference.states)
    remote = qactors.run(ping_ring(6), until_ps=UNTIL, seed=7, backend="ray:2",
                         checkpoints=CheckpointPlan(tmp_path, every_ps=2 * MS))
    assert remote.digest == reference.digest and remote.stats["checkpoints"]
    local = qactors.resume(remote.stats["checkpoints"][-1])
    assert (local.digest, local.events, local.states) == (reference.digest, reference.events, reference.states)


def test_a_checkpoint_object_can_be_resumed_twice_and_a_fork_changes_only_what_follows(written, reference):
    ckpt = qactors.read_checkpoint(written[1][0])
    assert qactors.resume(ckpt).digest == qactors.resume(ckpt).digest == reference.digest

    def lossier(actors):  # every memory now loses its qubit more often
        for a in actors.values():
            if hasattr(a, "loss"):
                a.loss = 0.9
    forked = qactors.fork(ckpt, lossier)
    assert forked.digest != reference.digest and forked.events == qactors.fork(ckpt, lossier).events
    first_two_ms = qactors.run(ping_ring(6), until_ps=2 * MS, seed=7)
    assert qactors.read_checkpoint(written[1][0]).events == first_two_ms.events


def test_bad_checkpoints_and_plans_are_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(qactors.ConfigurationError, match=r"no checkpoint \(ckpt-\*\.qckpt\) in '.*empty'"):
        qactors.resume(tmp_path / "empty")
    junk = tmp_path / "ckpt-1.qckpt"
    junk.write_text("hello\n")
    with pytest.raises(qactors.ConfigurationError, match=r"'.*ckpt-1.qckpt' is not a qactors checkpoint"):
        qactors.resume(junk)
    with pytest.raises(qactors.ConfigurationError, match=r"checkpoint interval must be a positive int"):
        CheckpointPlan(tmp_path, every_ps=0)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(qactors.ConfigurationError, match=r"checkpoint folder '.*file/sub' cannot be written"):
        qactors.run(ping_ring(3), until_ps=MS, checkpoints=CheckpointPlan(blocker / "sub", every_ps=MS))
    with pytest.raises(qactors.ConfigurationError, match=r"fork needs a change"):
        qactors.fork(junk, None)
