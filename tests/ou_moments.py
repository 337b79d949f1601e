"""The closed-form moments of ρ under noise (spec §6.3), shared by the noise tests.

With the flat potential, ρ is an Ornstein–Uhlenbeck process on each stretch of calcium:
above θp it relaxes to γp/(γp + γd) at rate (γp + γd)/τ with noise intensity 2σ²/τ
(gating "d+p"); between θd and θp to 0 at rate γd/τ with intensity σ²/τ.
"""

import numpy as np


def ou_step(mean, var, m, k, s2, t):
    """Moments after an OU step dρ = −k(ρ − m)dt + s dW of duration t (s2 = s²)."""
    e = np.exp(-k * t)
    return m + (mean - m) * e, var * e**2 + s2 * (1 - e**2) / (2 * k)


def stretches(p):
    """Time (s) one presynaptic jump ``Cpre`` spends above θp, then between θd and θp."""
    t_p = p.tau_ca * np.log(p.Cpre / p.theta_p)
    return t_p, p.tau_ca * np.log(p.Cpre / p.theta_d) - t_p


def after_one_spike(p, rho0, sigma=None):
    """Mean and variance of ρ after the calcium of one presynaptic spike has fallen below
    θd (gating "d+p"), from ρ0 exactly; ``sigma`` overrides the set's."""
    sigma = p.sigma if sigma is None else sigma
    t_p, t_d = stretches(p)
    gamma = p.gamma_p + p.gamma_d
    mean, var = ou_step(rho0, 0.0, p.gamma_p / gamma, gamma / p.tau, 2 * sigma**2 / p.tau, t_p)
    return ou_step(mean, var, 0.0, p.gamma_d / p.tau, sigma**2 / p.tau, t_d)
