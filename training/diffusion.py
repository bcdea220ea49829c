"""Noise schedule and prediction targets, identical to the engine's (src/main/core/inpaint/schedule.ts).

Units: images in network units (units.py), windowed [0, 1] mapped linearly to [-1, 1].
"""
import numpy as np
import torch

SCHEDULE = {"type": "linear", "betaStart": 0.0001, "betaEnd": 0.02, "trainingSteps": 1000, "variance": "fixedSmall"}


def betas(schedule=SCHEDULE):
    if schedule["type"] != "linear":
        raise ValueError("only the linear schedule is implemented here")
    # numpy.linspace in float64, as DDPM and guided-diffusion (and schedule.ts) compute it.
    return np.linspace(schedule["betaStart"], schedule["betaEnd"], schedule["trainingSteps"], dtype=np.float64)


def alpha_bar(schedule=SCHEDULE):
    return np.cumprod(1.0 - betas(schedule))


class Diffusion:
    def __init__(self, prediction="v", schedule=SCHEDULE):
        if prediction not in ("epsilon", "v", "x0"):
            raise ValueError(prediction)
        self.prediction = prediction
        self.schedule = schedule
        self.T = schedule["trainingSteps"]
        self.alpha_bar = torch.tensor(alpha_bar(schedule), dtype=torch.float32)

    def coefficients(self, t):
        ab = self.alpha_bar[t]
        return ab.sqrt()[:, None, None, None], (1 - ab).sqrt()[:, None, None, None]

    def q_sample(self, x0, t, noise):
        sa, sn = self.coefficients(t)
        return sa * x0 + sn * noise

    def target(self, x0, noise, t):
        sa, sn = self.coefficients(t)
        if self.prediction == "epsilon":
            return noise
        if self.prediction == "x0":
            return x0
        return sa * noise - sn * x0

    def target_for_x0(self, x0, xt, t):
        """The output whose clean-image estimate from xt is exactly x0 (for xt that is not x0 noised, e.g. a noised fill)."""
        sa, sn = self.coefficients(t)
        if self.prediction == "epsilon":
            return (xt - sa * x0) / sn
        if self.prediction == "x0":
            return x0
        return (sa * xt - x0) / sn

    def predict_x0(self, out, xt, t):
        """The clean-image estimate of a network output (as the engine's toX0AndEps, without clipping)."""
        sa, sn = self.coefficients(t)
        if self.prediction == "epsilon":
            return (xt - sn * out) / sa
        if self.prediction == "x0":
            return out
        return sa * xt - sn * out

    def x0_weight(self, t):
        """Factor that turns the squared error of the prediction into the squared error of x0."""
        sa, sn = self.coefficients(t)
        if self.prediction == "epsilon":
            return (sn / sa) ** 2
        if self.prediction == "x0":
            return torch.ones_like(sa)
        return sn**2
