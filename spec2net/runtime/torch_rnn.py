"""Keras's recurrent loop and cells in torch, for what the fused ``nn.LSTM``/``nn.GRU``/``nn.RNN``
cannot compute: masked steps, other activations, GRU ``reset_after=False``, recurrent dropout.

Each cell takes the input already projected for every step (one ``F.linear`` over the whole
sequence) and torch's parameter layout, so the fused and the looped paths share parameters.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

States = tuple  # of tensors: (h,) or (h, c)
Step = Callable[[torch.Tensor, States], tuple]
Activation = Callable[[torch.Tensor], torch.Tensor]


def rnn_loop(step: Step, inputs: torch.Tensor, mask: torch.Tensor | None, states: States,
             return_sequences: bool) -> tuple[torch.Tensor, States]:
    """Keras's RNN loop over (batch, steps, features): a masked step keeps the states and
    repeats the previous output (zeros before the first step), as Keras does on the CPU."""
    output = torch.zeros_like(states[0])
    outputs = []
    for t in range(inputs.shape[1]):
        new_output, new_states = step(inputs[:, t], states)
        if mask is not None:
            keep = mask[:, t, None]
            new_output = torch.where(keep, new_output, output)
            new_states = tuple(torch.where(keep, n, s) for n, s in zip(new_states, states))
        output, states = new_output, new_states
        outputs.append(output)
    return (torch.stack(outputs, 1) if return_sequences else output), states


def lstm_step(w_hh: torch.Tensor, activation: Activation, recurrent_activation: Activation,
              recurrent_mask: torch.Tensor | None) -> Step:
    """One LSTM step on the projected input; torch's gate order i f g o is Keras's i f c o."""

    def step(x_t, states):
        h, c = states
        if recurrent_mask is not None:
            h = h * recurrent_mask
        i, f, g, o = (x_t + F.linear(h, w_hh)).chunk(4, -1)
        c = recurrent_activation(f) * c + recurrent_activation(i) * activation(g)
        h = recurrent_activation(o) * activation(c)
        return h, (h, c)

    return step


def gru_step(w_hh: torch.Tensor, b_hh: torch.Tensor | None, activation: Activation,
             recurrent_activation: Activation, reset_after: bool,
             recurrent_mask: torch.Tensor | None) -> Step:
    """One GRU step on the projected input, gates in torch's order r z n (Keras's r z h)."""

    def step(x_t, states):
        (h,) = states
        h_in = h if recurrent_mask is None else h * recurrent_mask
        x_r, x_z, x_n = x_t.chunk(3, -1)
        if reset_after:  # the reset gate scales the recurrent projection (torch's GRU)
            h_r, h_z, h_n = F.linear(h_in, w_hh, b_hh).chunk(3, -1)
        else:
            h_r, h_z = F.linear(h_in, w_hh[: 2 * h.shape[1]]).chunk(2, -1)
        r = recurrent_activation(x_r + h_r)
        z = recurrent_activation(x_z + h_z)
        if reset_after:
            n = activation(x_n + r * h_n)
        else:  # the reset gate scales the state before its projection
            n = activation(x_n + F.linear(r * h_in, w_hh[2 * h.shape[1]:]))
        h = z * h + (1 - z) * n
        return h, (h,)

    return step


def simple_rnn_step(w_hh: torch.Tensor, activation: Activation, recurrent_mask: torch.Tensor | None) -> Step:
    """One SimpleRNN step on the projected input."""

    def step(x_t, states):
        (h,) = states
        h_in = h if recurrent_mask is None else h * recurrent_mask
        h = activation(x_t + F.linear(h_in, w_hh))
        return h, (h,)

    return step
