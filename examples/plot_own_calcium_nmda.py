"""
Your own calcium: an NMDA-current-driven calcium in a two-compartment Brian2 neuron
===================================================================================

In the Graupner & Brunel rule (2012, PNAS 109:3991) the calcium is a sum of jumps: C_pre
a delay D after each presynaptic spike, C_post at each postsynaptic one. Here the clock
template keeps the rule (thresholds θd, θp, rates, cubic term of the DP set) and takes the
calcium ``c`` from our own Brian2 equations, a :class:`~brian2_calcium.CalciumModel`:

* **presynaptic calcium through NMDA receptors.** A gating variable ``g_nmda`` jumps by 1
  a synaptic delay (2 ms) after each presynaptic spike and decays with τ_NMDA = 50 ms;
  calcium flows in at the rate ``k_nmda·g_nmda·B(v_d)``, B being the Mg²⁺ block of the
  *dendritic* voltage v_d, B = 1/(1 + [Mg²⁺]/3.57 mM · exp(−0.062 v_d/mV)) with
  [Mg²⁺] = 1 mM (Jahr & Stevens 1990, J Neurosci 10:3178). ``k_nmda`` is computed from
  these equations so that a presynaptic spike alone, the dendrite at rest (−65 mV), gives a
  transient peaking at 0.9·C_pre = 0.9, comparable to the DP set's jump C_pre = 1 but, unlike
  it, below θd = 1: a smooth transient peaking exactly at θd would graze the threshold, and
  the depression it caused would depend on the time step. The transient peaks ~30 ms after
  the spike; this slow rise of the NMDA calcium stands in for the jump model's delay D;
* **postsynaptic calcium of the back-propagating action potential** (bAP; voltage-gated
  calcium channels): a jump ``c += Cpost`` (C_post = 2) at each somatic spike, as in the
  jump model. The two parts are kept apart, c = c_nmda + c_bAP, so that they can be plotted.

The postsynaptic neuron has two compartments: a leaky integrate-and-fire soma and a
passive dendrite coupled to it by a conductance (10 nS). At a somatic spike a brief
current into the dendrite (2 nA, decaying with τ = 2 ms) stands for the bAP: the dendrite
depolarises for a few milliseconds, which lifts the Mg²⁺ block of the receptors glutamate
has opened. A pairing "pre, then post" therefore lets in much more calcium than either
spike alone; in "post, then pre" the glutamate finds the dendrite close to rest. Each
postsynaptic spike is evoked by a 30 mV kick to the soma. Simplifications: the synapse's
own current does not depolarise the neuron (the calcium reads v_d, the weight is not fed
back), and the soma's spike itself is not modelled (the LIF resets).

The protocol: 20 pairings at 1 Hz with Δt = t_post − t_pre from −40 to +40 ms, noise off
(σ = 0), ρ starting at 0.5; one synapse and one neuron per Δt, all in one network, and one
more synapse whose neuron never fires (presynaptic spikes only). Left: the voltages and
the calcium of the first pairing at Δt = +10 ms. Right: ρ after the protocol, next to the
standard DP jumps (C_pre, D = 13.7 ms, C_post) on the same spikes, simulated exactly by the
fast engine. Without noise, ρ moves pairing after pairing towards the value at which
potentiation and depression balance for its Δt (the cubic term acts slowly, τ = 150 s).
"""

import brian2 as b2
import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms, mV, nA, nS, pF, second

import brian2_calcium as bc
from brian2_calcium import CalciumModel
from brian2_calcium.plotting import finish_figure

b2.prefs.codegen.target = "numpy"  # no compilation: the example runs anywhere
b2.defaultclock.dt = 0.2 * ms
p = bc.get_parameters("DP").replace(sigma=0)
delta_t = np.arange(-40, 41, 10) * ms
n_pairs, frequency = 20, 1 * Hz
n = delta_t.size + 1  # one neuron and one synapse per Δt; the last: presynaptic spikes only
duration = 0.1 * second + n_pairs / frequency

# %%
# The two-compartment neuron and its input
# ----------------------------------------
# Soma (vs) and dendrite (vd), both with a 20 ms leak time constant, coupled by g_c;
# ``bap`` is the bAP current into the dendrite, started at each somatic spike. Kicks
# from a ``SpikeGeneratorGroup`` make the soma fire Δt after each presynaptic spike.

E_L, v_threshold, v_reset = -65 * mV, -50 * mV, -65 * mV
C_s, g_s, C_d, g_d, g_c = 150 * pF, 7.5 * nS, 50 * pF, 2.5 * nS, 10 * nS
I_bap, tau_bap = 2 * nA, 2 * ms
neuron = b2.NeuronGroup(
    n,
    """dvs/dt = (g_s*(E_L - vs) + g_c*(vd - vs))/C_s : volt (unless refractory)
    dvd/dt = (g_d*(E_L - vd) + g_c*(vs - vd) + I_bap*bap)/C_d : volt
    dbap/dt = -bap/tau_bap : 1""",
    threshold="vs > v_threshold", reset="vs = v_reset; bap += 1", refractory=5 * ms,
    method="euler", name="neuron",
    namespace={"E_L": E_L, "v_threshold": v_threshold, "v_reset": v_reset, "C_s": C_s,
               "g_s": g_s, "C_d": C_d, "g_d": g_d, "g_c": g_c, "I_bap": I_bap,
               "tau_bap": tau_bap},
)  # fmt: skip
neuron.vs = neuron.vd = E_L

t_pre = 0.1 * second + np.arange(n_pairs) / frequency  # pairing k at 0.1 s + k/f
pre_cells = b2.SpikeGeneratorGroup(n, np.repeat(np.arange(n), n_pairs),
                                   np.tile(t_pre, n), name="pre_cells")  # fmt: skip
t_kick = t_pre[None, :] + delta_t[:, None] - b2.defaultclock.dt  # the soma fires a step later
kicks = b2.SpikeGeneratorGroup(n, np.repeat(np.arange(n - 1), n_pairs), t_kick.ravel(),
                               name="kicks")  # fmt: skip
kick = b2.Synapses(kicks, neuron, on_pre="vs_post += 30*mV", name="kick")
kick.connect(j="i")

# %%
# The calcium: an NMDA current with its Mg²⁺ block, and the bAP's jump
# --------------------------------------------------------------------
# With the block at its resting value B_rest and g_nmda = exp(−t/τn), the equation gives
# c_nmda(t) = k B_rest τn τca/(τn − τca)·(exp(−t/τn) − exp(−t/τca)), whose peak is
# k B_rest τca r^(r/(1 − r)) with r = τca/τn; k_nmda puts that peak at 0.9·Cpre.

mg, tau_nmda = 1.0, 50 * ms  # [Mg2+] in mM
B_rest = 1 / (1 + mg / 3.57 * np.exp(-0.062 * float(E_L / mV)))
tau_ca = p.tau_ca * second  # parameter sets hold SI floats
r = float(tau_ca / tau_nmda)
k_nmda = 0.9 * p.Cpre / (B_rest * tau_ca * r ** (r / (1 - r)))
print(f"Mg2+ block at rest B(-65 mV) = {B_rest:.4f}, k_nmda = {float(k_nmda * ms):.3f}/ms")
nmda = CalciumModel(
    """dg_nmda/dt = -g_nmda/tau_nmda : 1 (clock-driven)
    block = 1/(1 + mg/3.57*exp(-0.062*vd_post/mV)) : 1
    dc_nmda/dt = -c_nmda/tau_ca + k_nmda*g_nmda*block : 1 (clock-driven)
    dc_bap/dt = -c_bap/tau_ca : 1 (clock-driven)
    c = c_nmda + c_bap : 1""",
    on_pre="g_nmda += 1",
    on_post="c_bap += Cpost",
    delay=2 * ms,
    namespace={"tau_nmda": tau_nmda, "mg": mg, "k_nmda": k_nmda},
)
template = bc.synapse_template(p, "clock", calcium=nmda)
syn = bc.make_synapses(pre_cells, neuron, template, connect="i == j", name="nmda")
syn.rho = p.rho_star  # 0.5

# record the first pairing at Δt = +10 ms and the synapse with presynaptic spikes only
show = [int(np.flatnonzero(delta_t == 10 * ms)[0]), n - 1]
calcium = b2.StateMonitor(syn, ["c_nmda", "c_bap"], record=show)
voltage = b2.StateMonitor(neuron, ["vs", "vd"], record=show)
spikes = b2.SpikeMonitor(neuron)
net = b2.Network(neuron, pre_cells, kicks, kick, syn, calcium, voltage, spikes)
net.run(0.4 * second, namespace={})
calcium.active = voltage.active = False
net.run(duration - 0.4 * second, namespace={})

# %%
# The standard jumps on the same spikes, and what the pairings did
# ----------------------------------------------------------------

post_trains = [spikes.spike_trains()[k] for k in range(n)]
measured = [float((post_trains[k][0] - t_pre[0]) / ms) for k in range(n - 1)]
assert np.allclose(measured, delta_t / ms) and all(len(t) == n_pairs for t in post_trains[:-1])
jumps = bc.simulate_synapses(p, [t_pre] * n, post_trains, np.full(n, p.rho_star), duration)
rho = np.array(syn.rho[:])

t = calcium.t / ms - 100  # time from the first presynaptic spike
c_nmda, c_bap = calcium.c_nmda[0], calcium.c_bap[0]
block = 1 / (1 + mg / 3.57 * np.exp(-0.062 * voltage.vd[0] / mV))
print(f"presynaptic spikes only: NMDA calcium peaks at {calcium.c_nmda[1].max():.3f}")
print(f"Δt = +10 ms: dendrite peaks at {voltage.vd[0].max() / mV:.1f} mV (block "
      f"{block.max():.2f}); calcium peaks at {(c_nmda + c_bap).max():.2f}, NMDA part "
      f"{c_nmda.max():.2f}")  # fmt: skip
print(f"ρ after {n_pairs} pairings at {float(frequency / Hz):g} Hz, from 0.5:")
print(" Δt (ms)   NMDA calcium   DP jumps")
for d, own, std in zip(delta_t / ms, rho[:-1], jumps[:-1], strict=True):
    print(f"  {d:+5.0f}       {own:.3f}        {std:.3f}")
print(f"  pre only    {rho[-1]:.3f}        {jumps[-1]:.3f}")

fig = plt.figure(figsize=(10, 5.5), layout="constrained")
left, right = fig.subfigures(1, 2, width_ratios=[1, 1.1])
ax_v, ax_c = left.subplots(2, 1, sharex=True)
ax_v.plot(t, voltage.vs[0] / mV, color="0.3", label="soma")
ax_v.plot(t, voltage.vd[0] / mV, color="C1", label="dendrite")
for x, name, side in ((0, "pre ", "right"), (10, " post", "left")):
    ax_v.axvline(x, color="0.7", lw=0.8, ls=":")
    ax_v.text(x, -28, name, ha=side, fontsize="small", color="0.4")
ax_v.set(ylabel="voltage (mV)", title="first pairing, Δt = +10 ms")
ax_v.legend(frameon=False, fontsize="small")
ax_c.plot(t, c_nmda + c_bap, color="k", label="c = c_nmda + c_bAP")
ax_c.plot(t, c_nmda, color="C0", label="c_nmda (NMDA current)")
ax_c.plot(t, c_bap, color="C1", label="c_bAP (C_post jump)")
ax_c.plot(t, calcium.c_nmda[1], color="C0", ls="--", lw=1, label="c_nmda, no post spike")
for theta, name in ((p.theta_d, "θd"), (p.theta_p, "θp")):
    ax_c.axhline(theta, color="0.5", ls=":", lw=0.8)
    ax_c.text(195, theta, name, va="bottom", ha="right", fontsize="small", color="0.4")
ax_c.set(xlabel="time from the presynaptic spike (ms)", ylabel="calcium", xlim=(-20, 200))
ax_c.legend(frameon=False, fontsize="small")

ax = right.subplots()
ax.plot(delta_t / ms, rho[:-1], "o-", color="C0", label="NMDA calcium (Brian2, this example)")
ax.plot(delta_t / ms, jumps[:-1], "s--", color="0.5", ms=4, label="DP jumps (fast engine)")
ax.axhline(rho[-1], color="C0", lw=0.8, ls=":", label="NMDA calcium, presynaptic spikes only")
ax.axhline(p.rho_star, color="0.7", lw=0.8)
ax.set(xlabel="Δt = t_post − t_pre (ms)", ylabel=f"ρ after {n_pairs} pairings (from 0.5)",
       title=f"{n_pairs} pairings at {float(frequency / Hz):g} Hz, σ = 0")  # fmt: skip
ax.legend(frameon=False, fontsize="small")
finish_figure(fig, "own_calcium_nmda")
