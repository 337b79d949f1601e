"""
NMDA-gated calcium: STDP onto a neuron held at two depolarisations
==================================================================

In the Graupner & Brunel rule (2012, PNAS 109:3991) a presynaptic spike adds a fixed jump
C_pre to the calcium a delay D later. The presynaptic calcium enters through NMDA
receptors, though, whose Mg²⁺ block depends on the postsynaptic voltage (Jahr & Stevens
1990, J Neurosci 10:3178). With :class:`~brian2_calcium.VoltageGating` the jump arriving
at t_pre + D is multiplied by

    G(V) = B(V)/B(V_ref),   B(V) = 1/(1 + [Mg²⁺]/3.57 mM · exp(−0.062 V/mV)),

V the postsynaptic voltage at the arrival, [Mg²⁺] = 1 mM and V_ref = −65 mV (G = 1 there).

Here the postsynaptic neurons are held at a fixed voltage (a voltage clamp; their spikes
are imposed): at −65 mV (G = 1, the fixed-jump DP model), at two depolarisations, −55 mV
and −45 mV (G = 1.77 and 3.01: more presynaptic calcium), and at a hyperpolarisation,
−75 mV (G = 0.55). Left: pairs at 1 Hz, Δt = t_post − t_pre from −50 to +50 ms, noise off
(σ = 0), ρ starting at ρ* = 0.5, simulated in Brian2 with the exact event template (one
presynaptic cell, one held neuron and one synapse per voltage and Δt, all in one network).
On Brian2's numpy target a second of simulated time costs most of a second here, so the
protocol has 20 pairings rather than GB2012's 60 (DP's τ = 150 s unchanged, so ρ moves by
only a few hundredths). At a held voltage G is a constant, so the gated rule is the
fixed-jump rule with the jump C_pre·G(V): the lines are that model, simulated exactly by
the fast engine, and the printed differences check that the two agree (at −65 mV with the
published DP set itself). Right: the same equivalence gives GB2012's own read-out at low
cost, the change in strength S of the bistable synapse with noise after 60 pairings (fast
engine, 1000 synapses per initial state; lines: the analytic theory).

What the voltage does: at −65 and −75 mV a presynaptic jump alone stays at or below
θd = 1 and has no effect; only the pairing matters. Hyperpolarised (a jump of 0.55),
depression needs the presynaptic calcium to land on a large residue of the postsynaptic
jump: it is confined to post-before-pre delays shorter than about 15 ms, where DP depresses
from 0 to −50 ms and beyond. At −55 mV a lone jump (1.77) stays above θd for 11 ms and
above θp for 6 ms, its depression slightly outweighing its potentiation: the depression
window has almost gone (post-before-pre delays up to 25 ms now potentiate, longer ones
depress a little, S ≈ 0.96 at −50 ms), short pre-before-post delays potentiate more than
at −65 mV and long ones (30–50 ms) less. At −45 mV the jump (3.01) stays above θp for
17 ms and every presynaptic spike potentiates: the whole curve is lifted and no Δt
depresses.
"""

import brian2 as b2
import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms, mV, second

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

b2.prefs.codegen.target = "numpy"  # no compilation: the example runs anywhere
b2.defaultclock.dt = 0.1 * ms  # the delay D = 13.7 ms must be a multiple of dt
dt = b2.defaultclock.dt
p = bc.get_parameters("DP").replace(sigma=0)
gating = bc.VoltageGating(variable="v", mg=1.0, mg_scale=3.57, slope=0.062 / mV, v_ref=-65 * mV)
holding = np.array([-75, -65, -55, -45]) * mV
colours = ["C0", "k", "C1", "C3"]
G = gating.factor(holding)
for v, g in zip(holding, G, strict=True):
    print(f"held at {v / mV:+.0f} mV: G = {g:.3f}, presynaptic jump C_pre·G = {p.Cpre * g:.3f}")

delta_t = np.arange(-50, 51, 5) * ms
n_pairs, frequency = 20, 1 * Hz
t_first = 0.1 * second  # the first presynaptic spike
duration = t_first + n_pairs / frequency

# %%
# Held neurons and their synapses
# -------------------------------
# One neuron per holding voltage and Δt (voltage after voltage, Δt within). Its voltage
# ``v`` is a constant, and it fires at the time steps ``first + k·period`` (k < n_pairs):
# the pairings' postsynaptic spikes. One presynaptic cell, a ``SpikeGeneratorGroup``
# firing at t_first + k/f, contacts every neuron.

n_v, n_dt = holding.size, delta_t.size
period = int(round(1 / float(frequency * dt)))  # time steps per pairing
t_pre = t_first + np.arange(n_pairs) / frequency
pre = b2.SpikeGeneratorGroup(1, np.zeros(n_pairs, dtype=int), t_pre, name="pre")
held = b2.NeuronGroup(
    n_v * n_dt,
    """v : volt (constant)  # the holding voltage
    first : integer (constant)  # time step of the first postsynaptic spike""",
    threshold="timestep(t, dt) >= first and (timestep(t, dt) - first) % period == 0"
              " and timestep(t, dt) < first + n_pairs*period",
    reset="", namespace={"period": period, "n_pairs": n_pairs}, name="held",
)  # fmt: skip
held.v = np.repeat(holding, n_dt)
held.first = np.round((t_first + np.tile(delta_t, n_v)) / dt).astype(int)

template = bc.synapse_template(p, "event", voltage_gating=gating)
syn = bc.make_synapses(pre, held, template, connect=True, name="nmda")
syn.rho = p.rho_star  # 0.5
b2.Network(pre, held, syn).run(duration, namespace={})
rho = bc.bring_up_to_date(syn, duration).reshape(n_v, n_dt)

# %%
# The fixed jump C_pre·G on the same pairings (fast engine)
# ---------------------------------------------------------
# On a 1 ms grid of Δt; every fifth point is a Δt of the Brian2 network. A
# :class:`~brian2_calcium.ParameterTable` gives each synapse its jump.


def fast_engine(params, jump_factors, delays):
    """ρ after the pairings, one row per jump factor, one column per Δt."""
    n = len(jump_factors) * len(delays)
    table = bc.ParameterTable(params, Cpre=params.Cpre * np.repeat(jump_factors, len(delays)))
    post = [t_pre + d for d in delays] * len(jump_factors)
    rho_end = bc.simulate_synapses(table, [t_pre] * n, post, np.full(n, params.rho_star), duration)
    return rho_end.reshape(len(jump_factors), len(delays))


fine = np.arange(-50, 51, 1) * ms
jumps = fast_engine(p, G, fine)
dp_jumps = bc.simulate_synapses(
    p, [t_pre] * fine.size, [t_pre + d for d in fine], np.full(fine.size, p.rho_star), duration
)  # the published set
for v, row, fast in zip(holding, rho, jumps[:, ::5], strict=True):
    print(f"{v / mV:+.0f} mV: largest |Brian2 gated − fast engine, jump C_pre·G| = "
          f"{np.abs(row - fast).max():.1e}")  # fmt: skip
print(f"held at V_ref = -65 mV: largest |Brian2 gated − DP fixed jumps| = "
      f"{np.abs(rho[1] - dp_jumps[::5]).max():.1e}")  # fmt: skip

print(f"ρ after {n_pairs} pairings at {float(frequency / Hz):g} Hz, from 0.5 (σ = 0), Brian2:")
show = [int(np.flatnonzero(np.isclose(delta_t / ms, d))[0]) for d in (-50, -20, -5, 10, 30, 50)]
print(" V (mV)  " + "  ".join(f"{float(delta_t[k] / ms):+4.0f} ms" for k in show))
for v, row in zip(holding, rho, strict=True):
    print(f"  {v / mV:+4.0f}   " + "  ".join(f"{row[k]:7.3f}" for k in show))

# %%
# The bistable read-out with noise: S after 60 pairings
# -----------------------------------------------------

noisy = bc.get_parameters("DP")
print("change in strength S after 60 pairings (noise on, fast engine):")
fig, (ax_rho, ax_s) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
for v, g, row, fast, colour in zip(holding, G, rho, jumps, colours, strict=True):
    label = f"{v / mV:+.0f} mV, G = {g:.2f}"
    ax_rho.plot(fine / ms, fast, color=colour, lw=1)
    ax_rho.plot(delta_t / ms, row, "o", ms=4, color=colour, label=label)
    gated = noisy.replace(Cpre=noisy.Cpre * g, name=f"DP at {v / mV:+.0f} mV")
    df = bc.stdp_curve(gated, delta_t=delta_t, frequency=frequency, n_pairs=60,
                       n_synapses=1000, seed=5)  # fmt: skip
    theory = bc.stdp_curve(gated, delta_t=fine, frequency=frequency, n_pairs=60,
                           engine="analytic")  # fmt: skip
    ax_s.plot(theory.delta_t_ms, theory.S, color=colour, lw=1)
    ax_s.errorbar(df.delta_t_ms, df.S, yerr=df.S_se, fmt="o", ms=3, color=colour, label=label)
    at = dict(zip(df.delta_t_ms.round().astype(int), df.S, strict=True))
    print(
        f"  {v / mV:+4.0f} mV: S from {df.S.min():.2f} to {df.S.max():.2f}; at Δt = "
        + ", ".join(f"{d:+d} ms: {at[d]:.2f}" for d in (-50, -20, 10, 50))
    )
ax_rho.plot(fine / ms, dp_jumps, "--", color="0.6", lw=1.5, label="DP fixed jumps (fast engine)")
ax_rho.axhline(p.rho_star, color="0.8", lw=0.8)
ax_rho.set(xlabel="Δt = t_post − t_pre (ms)", ylabel=f"ρ after {n_pairs} pairings (from 0.5)",
           title="Brian2, NMDA-gated jumps, σ = 0\n"
                 "(lines: fixed jump C_pre·G, fast engine)")  # fmt: skip
ax_rho.legend(frameon=False, fontsize="small", title="held at")
ax_s.axhline(1, color="0.8", lw=0.8)
ax_s.set(xlabel="Δt = t_post − t_pre (ms)", ylabel="change in strength S",
         title="60 pairings, noise on: fixed jump C_pre·G\n"
               "(fast engine; lines: theory)")  # fmt: skip
finish_figure(fig, "nmda_gated_stdp")
