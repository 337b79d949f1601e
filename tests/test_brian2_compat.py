"""Brian2 versions and compiled code: what the library's generated code may read, a code
object that failed to compile, and a walk fed a corrupted history.

Brian2 2.11's cython ``synapses`` template counts its loop with ``i``: pathway code that
reads the synapse's ``i`` failed to compile there, Brian2 carried on with the pathway empty,
and every cython result was wrong (or a step never ended). These tests pin the three
defences: the library's code reads neither ``i`` nor ``j`` (nor the template's other
names), a failed compile is an error, and the walk ends on any input.
"""

import dataclasses
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import brian2 as b2
import numpy as np
import pytest
from brian2 import ms, mV

import brian2_calcium as bc
from brian2_calcium.compile_check import CompilationError, failed_code_objects

# Names Brian2's runtime templates use for their own variables (2.11's cython synapses
# template: the loop counter i, and these); code of the library must not read them.
TEMPLATE_NAMES = {"i", "j", "synapse_id", "num_spikes", "spike_data", "capsule", "cpp_queue",
                  "spike_vector"}  # fmt: skip
IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def _identifiers(code):
    return set(IDENTIFIER.findall(code))


@pytest.mark.parametrize("mode", ["event", "clock"])
@pytest.mark.parametrize("name", sorted(bc.parameter_sets()))
def test_template_code_reads_no_name_of_brian2s_templates(name, mode):
    """Every set, both templates, with a weight target and a probe: no pathway and no
    sweep reads i, j or another name of Brian2's synapses template."""
    t = bc.synapse_template(name, mode, weight_target="ge", probe=True)
    codes = [*t.on_pre.values(), *t.on_post.values()] + ([t.sweep] if t.sweep else [])
    for code in codes:
        assert not _identifiers(code) & TEMPLATE_NAMES, code


def test_made_synapses_and_recorders_read_no_i_or_j(numpy_target):
    """What make_synapses installs (pathways, sweep, the recorder of a group without a
    reset, the reset line of a NeuronGroup) reads neither i nor j."""
    inputs = b2.SpikeGeneratorGroup(2, [0], [1] * ms)
    neurons = b2.NeuronGroup(3, "dge/dt = -ge/(5*ms) : volt", threshold="ge > 1*volt",
                             reset="ge = 0*volt")  # fmt: skip
    syn = bc.make_synapses(inputs, neurons, bc.synapse_template("DP", weight_target="ge",
                           w1=1 * mV), connect=True)  # fmt: skip
    codes = [str(p.code) for p in syn._pathways]
    codes += [str(obj.abstract_code) for obj in syn.contained_objects
              if hasattr(obj, "abstract_code")]  # fmt: skip
    recorder = syn._gb_link.pre.recorder
    codes += [str(p.code) for p in recorder._pathways]
    for code in codes:
        assert not _identifiers(code) & TEMPLATE_NAMES, code
    # the NeuronGroup's reset records with the group's own index (a neuron's i is safe)
    assert re.search(r"_record(_\d+)?\(i, t\)", neurons.event_codes["spike"])


def test_weights_in_another_unit_than_the_target_are_refused():
    G = b2.NeuronGroup(2, "dI/dt = -I/(5*ms) : amp\ndge/dt = -ge/(5*ms) : volt",
                       threshold="False", reset="", name="G")  # fmt: skip
    with pytest.raises(ValueError, match=r"G\.I is in amp but the weights w0, w1 are volt"):
        bc.make_synapses(G, G, bc.synapse_template("DP", weight_target="I", w1=3 * mV))
    with pytest.raises(ValueError, match=r"in amp but the weights w0, w1 are a bare number"):
        bc.make_synapses(G, G, bc.synapse_template("DP", weight_target="I"))
    with pytest.raises(ValueError, match=r"ge is in volt but the weights w0, w1 are amp"):
        bc.make_synapses(G, G, bc.synapse_template("DP", weight_target="ge", w1=1 * b2.nA))
    syn = bc.make_synapses(G, G, bc.synapse_template("DP", weight_target="I", w1=1 * b2.nA))
    assert "transmission" in {p.objname for p in syn._pathways}


def _broken_template():
    """The event template with a transmission that calls a function whose cython code is
    not valid Cython."""
    broken = b2.Function(lambda x: x, arg_units=[1], return_unit=1)
    broken.implementations.add_implementation(
        "cython", "cdef double gb_broken(double x):\n    return x +* 1\n", name="gb_broken"
    )
    t = bc.synapse_template("DP", weight_target="ge")
    on_pre = {**t.on_pre, "transmission": "ge_post += gb_broken(1.0)"}
    return dataclasses.replace(t, on_pre=on_pre, namespace={**t.namespace, "gb_broken": broken})


@pytest.mark.long
def test_a_code_object_that_fails_to_compile_is_an_error(cython_target):
    """Brian2 prints the Cython error and would run with the pathway empty; the library
    raises CompilationError naming the code object and the target instead of running."""
    G = b2.NeuronGroup(3, "dge/dt = -ge/(5*ms) : 1", threshold="True", reset="")
    syn = bc.make_synapses(G, G, _broken_template(), connect=True, name="broken_syn")
    net = b2.Network(G, syn)
    with pytest.raises(Exception) as info:
        net.run(1 * ms)
    error = info.value
    while error is not None and not isinstance(error, CompilationError):
        error = error.__cause__
    assert error is not None, f"no CompilationError but {info.value!r}"
    message = str(error)
    assert "broken_syn_transmission_codeobject" in message
    assert "target 'cython'" in message
    assert G.ge[:].tolist() == [0.0, 0.0, 0.0]  # nothing ran


def test_a_compiled_model_has_no_failed_code_object(numpy_target):
    G = b2.NeuronGroup(2, "dge/dt = -ge/(5*ms) : 1", threshold="True", reset="")
    syn = bc.make_synapses(G, G, bc.synapse_template("DP", weight_target="ge"), connect=True)
    b2.Network(G, syn).run(1 * ms)
    assert failed_code_objects([syn, G]) == []


# A model whose histories are corrupted between two runs; prints the second run's wall
# time and which synapses have a NaN rho (a subprocess: a walk that never ended would
# hang the test runner, compiled code cannot be interrupted).
_CORRUPTED = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import brian2 as b2
    from brian2 import ms
    import brian2_calcium as bc

    b2.prefs.codegen.target = sys.argv[1]
    times = np.arange(1, 100, 5.0)
    pre = b2.SpikeGeneratorGroup(3, np.repeat([0, 1, 2], len(times)),
                                 np.tile(times, 3) * ms)
    post = b2.SpikeGeneratorGroup(3, np.repeat([0, 1, 2], len(times)),
                                  np.tile(times + 2, 3) * ms)
    syn = bc.make_synapses(pre, post, bc.synapse_template("DP"), connect=True)
    net = b2.Network(pre, post, syn)
    net.run(50 * ms)
    assert np.all(np.isfinite(syn.rho[:]))
    pairs = [(int(i), int(j)) for i, j in zip(syn.i[:], syn.j[:])]
    link = syn._gb_link
    link.pre.recent[4 * 0] = 1e12        # presynaptic neuron 0: a count far beyond the ring
    link.post.recent[4 * 1] = np.nan     # postsynaptic neuron 1: no count at all
    link.post.recent[4 * 2] = -3         # postsynaptic neuron 2: a negative count
    k = int(np.flatnonzero((syn.i[:] == 2) & (syn.j[:] == 0))[0])
    post_index = syn.variables["_synaptic_post"].get_value()
    post_index[k] = 10**6                # synapse 2 -> 0: a neuron outside the history
    assert syn.variables["_synaptic_post"].get_value()[k] == 10**6
    start = time.perf_counter()
    net.run(50 * ms)
    elapsed = time.perf_counter() - start
    nan = [pair for pair, r in zip(pairs, syn.rho[:]) if np.isnan(r)]
    print("ELAPSED", elapsed)
    print("NAN", sorted(nan))
    """
)


def _run_corrupted(target):
    env = dict(os.environ, PYTHONPATH=str(Path(bc.__file__).parents[1]))
    result = subprocess.run([sys.executable, "-c", _CORRUPTED, target], capture_output=True,
                            text=True, timeout=300, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    return float(lines["ELAPSED"]), eval(lines["NAN"])  # noqa: S307 - our own output


@pytest.mark.parametrize("target", ["numpy", pytest.param("cython", marks=pytest.mark.long)])
def test_a_walk_over_a_corrupted_history_ends_and_gives_nan(target):
    """Counts that disagree with the ring (far beyond it, negative, NaN) and a neuron index
    outside the history: the second run returns within a second (the code is compiled by
    then) and exactly the synapses of the corrupted neurons have rho = NaN."""
    elapsed, nan = _run_corrupted(target)
    assert elapsed < 1.0
    corrupted = {(0, j) for j in range(3)} | {(i, j) for i in range(3) for j in (1, 2)}
    assert set(nan) == corrupted | {(2, 0)}  # the one synapse left, 1 -> 0, goes on


@pytest.mark.parametrize("target", ["numpy", pytest.param("cython", marks=pytest.mark.long)])
def test_an_interrupted_network_stops_within_a_second(target, tmp_path):
    """Ctrl-C during a long run of the plastic network: the simulation stops within a
    second (every compiled loop of the library is short and bounded), the command exits
    with status 130, and its
    summary covers the time that ran (Brian2 stops the loop at a first Ctrl-C and returns
    normally: the run's 1000 s must not be taken for the network time)."""
    import signal
    import time

    env = dict(os.environ, PYTHONPATH=str(Path(bc.__file__).parents[1]))
    command = [sys.executable, "-m", "brian2_calcium", "network", "--neurons", "400",
               "--duration", "1000", "--target", target, "--plot", ""]  # fmt: skip
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        for line in process.stdout:  # Brian2's report once the loop runs (after compiling)
            if line.startswith("Starting simulation"):
                break
        time.sleep(1.0)
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        start = time.perf_counter()
        for line in process.stdout:  # Brian2's last report: the loop has stopped
            if "simulated in" in line:
                break
        elapsed = time.perf_counter() - start
        status = process.wait(timeout=60)  # the read-out of what ran, then the exit
    finally:
        process.kill()
    assert status == 130
    assert elapsed < 1.0
    assert "brian2-calcium: interrupted at t = " in process.stdout.read()
    # what was written covers the time that ran, and says the run stopped early
    summary = json.loads((tmp_path / "network.json").read_text())
    assert summary["stopped_early"] and 0 < summary["duration_s"] < 100


def test_network_results_own_their_arrays():
    """Brian2 2.11 keeps monitors' and synapses' arrays in C++ memory that goes with the
    network: a result holding views of them read freed memory (garbage spike times, a CV
    of 0 on 3.13). The result's arrays are copies and stay right after the network is gone."""
    import gc

    result = bc.simulate_network(0.3, target="numpy", n_neurons=400, plasticity="event",
                                 seed=2, progress=False)  # fmt: skip
    gc.collect()
    _ = [np.ones(10_000) for _ in range(100)]  # reuse what the network freed
    for name in ("spike_i", "spike_t", "rho_final", "rho_initial"):
        array = getattr(result, name)
        assert array.base is None or array.base.base is None, name  # owns (a copy of) its data
    t = result.spike_t
    assert np.all(np.diff(t) >= 0) and t.min() > 0 and t.max() < 0.3  # the monitor's order
    assert np.all((result.spike_i >= 0) & (result.spike_i < 400))
    assert 0.05 < result.cv_isi() < 2
