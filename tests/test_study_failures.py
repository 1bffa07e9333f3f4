"""`rimmodel analyze` on a study with failed or pending samples: the documented policy.

Sobol' and Morris need every sample and are refused with each missing one named; delta
indices (latin, grid) exclude them and say so. Uses the Ishigami function (no FEM solves).
"""

import numpy as np
import pytest

from rimmodel.study.analysis import analyze
from rimmodel.study.ishigami import ishigami
from rimmodel.study.journal import SampleOutcome
from rimmodel.study.results import write_results
from rimmodel.study.sampling import sample_values, unit_design
from rimmodel.study.spec import load_study

PI = 3.141592653589793
STUDY = "[study]\nmodel = \"ishigami\"\nsampler = \"{sampler}\"\nsamples = {samples}\nseed = 7\n" + "".join(
    f'[parameters.x{i}]\ndistribution = "uniform"\nlow = {-PI}\nhigh = {PI}\n' for i in (1, 2, 3))


def _study_with(tmp_path, sampler: str, samples: int, failed=(), pending=()):
    path = tmp_path / f"{sampler}.toml"
    path.write_text(STUDY.format(sampler=sampler, samples=samples))
    study = load_study(path)
    design = unit_design(study)
    values = sample_values(study, design)
    outcomes = {}
    for index, sample in enumerate(values):
        if index in pending:
            continue
        if index in failed:
            outcomes[index] = SampleOutcome(index, "failed", reason="time step failed at t = 0.05 yr: negative "
                                                                    "density -1.1e-06 (microglia)")
        else:
            outcomes[index] = SampleOutcome(index, "completed", time=[0.0],
                                            series={"y": [ishigami(sample["x1"], sample["x2"], sample["x3"])]})
    directory = tmp_path / sampler
    directory.mkdir()
    write_results(directory / "study.h5", study, design, values, outcomes)
    return directory


@pytest.mark.parametrize("sampler", ["saltelli", "morris"])
def test_sobol_and_morris_refuse_and_name_every_missing_sample(tmp_path, sampler):
    directory = _study_with(tmp_path, sampler, 8, failed=(3, 17), pending=(5,))
    with pytest.raises(ValueError) as refused:
        analyze(directory)
    message = str(refused.value)
    assert "need every sample" in message and "\n" not in message
    assert "2 failed (samples 3, 17); sample 3: time step failed" in message
    assert "1 pending (samples 5); the study has not finished" in message
    assert not list(directory.glob("sensitivity_*"))  # nothing written


def test_delta_excludes_failed_samples_and_reports_them(tmp_path):
    directory = _study_with(tmp_path, "latin", 60, failed=(4, 9, 50), pending=(7,))
    found = analyze(directory)
    assert (found["analysed"], found["samples"], found["failed"]) == (56, 60, 3)
    assert found["excluded"] == {"failed": [4, 9, 50], "pending": [7]}
    assert np.isfinite(found["indices"]["delta"]).all() and len(found["indices"]["delta"]) == 3
    assert found["table"].is_file() and found["figure"].is_file()


def test_a_study_where_nothing_completed_is_refused_in_one_line(tmp_path):
    directory = _study_with(tmp_path, "latin", 40, failed=tuple(range(40)))
    with pytest.raises(ValueError, match=r"^no sample has a value to analyse: 40 failed \(samples 0, 1, .* and 20 "
                                         r"more\); sample 0: time step failed"):
        analyze(directory)
