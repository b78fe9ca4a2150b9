"""torch.optim and torch.optim.lr_scheduler fixtures for OptimizerFixtureTests.cs and ScheduleTests.cs.

    /usr/bin/python3 make_optim_fixtures.py    writes beside this script
        optimizers.json  per case: the optimiser and its arguments, parameter groups (torch's absolute lr, and its
                         ratio to the base lr, which is NetCompiler's LearningRateScale), an optional clip_grad_norm_
                         max, the starting tensors, the gradient of every step, and after every step the tensors and
                         the norm clip_grad_norm_ returned
        schedules.json   per case: the scheduler, its arguments, epochs and batches per epoch, and the learning rate
                         of every optimiser step (read before the step, as Fit applies a schedule before the step)

Regenerate with Debian's python3-torch (`/usr/bin/python3`, not the python3 on PATH). The tensors are float32 and
torch's CPU kernels do the updates, so the C# side matches to float rounding, not bit for bit.
"""

import json
import pathlib
import warnings
import zlib

import torch
from torch.optim import lr_scheduler

HERE = pathlib.Path(__file__).resolve().parent
STEPS = 3
# Two tensors: a 2-D weight (42 elements: vector loop plus remainder) and a 1-D bias (scalar loop only); the groups
# cases tell them apart by rank, as ParameterGroup.NormsAndBiases does.
SHAPES = {"weight": [6, 7], "bias": [5]}

OPTIMISERS = [
    ("RMSprop", "plain", {"lr": 0.01}, None, None),
    ("RMSprop", "momentum", {"lr": 0.01, "alpha": 0.9, "momentum": 0.8}, None, None),
    ("RMSprop", "centered", {"lr": 0.01, "alpha": 0.95, "centered": True, "momentum": 0.5}, None, None),
    ("RMSprop", "weight_decay", {"lr": 0.02, "weight_decay": 0.1, "eps": 1e-3}, None, None),
    ("AdamW", "defaults", {}, None, None),
    ("AdamW", "decay", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.5}, None, None),
    ("Adagrad", "defaults", {}, None, None),
    ("Adagrad", "decays", {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.2, "initial_accumulator_value": 0.3, "eps": 1e-6}, None, None),
    # No decay (and half the rate) on the 1-D tensor; the optimiser's decay on the rest.
    ("AdamW", "groups", {"lr": 0.05, "weight_decay": 0.3}, {"bias": {"weight_decay": 0.0, "lr_scale": 0.5}}, None),
    ("RMSprop", "groups", {"lr": 0.01, "weight_decay": 0.2, "momentum": 0.5}, {"bias": {"weight_decay": 0.0, "lr_scale": 2.0}}, None),
    ("SGD", "groups", {"lr": 0.1, "weight_decay": 0.1, "momentum": 0.9}, {"bias": {"weight_decay": 0.0, "lr_scale": 1.0}}, None),
    ("Adagrad", "groups", {"lr": 0.1, "weight_decay": 0.1}, {"bias": {"weight_decay": 0.0, "lr_scale": 0.25}}, None),
    # Gradients of norm about 10: clipped to 1 on every step.
    ("SGD", "clipped", {"lr": 0.1, "momentum": 0.9}, None, 1.0),
    ("Adam", "clipped", {"lr": 0.01, "weight_decay": 0.01}, None, 2.5),
    # A max above the norm leaves the gradients as they are.
    ("AdamW", "not_clipped", {"lr": 0.01}, None, 1000.0),
]


def optimiser_case(kind, name, arguments, groups, max_norm):
    generator = torch.Generator().manual_seed(zlib.crc32(f"{kind}.{name}".encode()))
    start = {key: torch.randn(shape, generator=generator) for key, shape in SHAPES.items()}
    params = {key: torch.nn.Parameter(value.clone()) for key, value in start.items()}
    base_lr = arguments.get("lr", {"RMSprop": 0.01, "AdamW": 1e-3, "Adagrad": 0.01, "Adam": 1e-3}.get(kind))
    if groups is None:
        param_groups = [{"params": list(params.values())}]
    else:
        param_groups = [
            {"params": [params[key]], "weight_decay": group["weight_decay"], "lr": base_lr * group["lr_scale"]}
            for key, group in groups.items()
        ] + [{"params": [p for key, p in params.items() if key not in groups]}]
    optimiser = getattr(torch.optim, kind)(param_groups, **arguments)
    scale = 10.0 if max_norm is not None else 1.0
    steps = []
    for _ in range(STEPS):
        gradients = {key: torch.randn(shape, generator=generator) * scale for key, shape in SHAPES.items()}
        for key, p in params.items():
            p.grad = gradients[key].clone()
        norm = None
        if max_norm is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm))
        optimiser.step()
        steps.append({
            "gradients": {key: g.flatten().tolist() for key, g in gradients.items()},
            "after": {key: p.detach().flatten().tolist() for key, p in params.items()},
            "norm": norm,
        })
    json_arguments = {key: list(value) if isinstance(value, tuple) else value for key, value in arguments.items()}
    return {
        "optimizer": kind, "name": name, "arguments": json_arguments, "groups": groups, "max_norm": max_norm,
        "shapes": SHAPES, "start": {key: value.flatten().tolist() for key, value in start.items()}, "steps": steps,
    }


def schedule_lrs(make, base_lr, epochs, batches, per_batch):
    optimiser = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = make(optimiser)
    lrs = []
    for _ in range(epochs):
        for _ in range(batches):
            lrs.append(optimiser.param_groups[0]["lr"])
            optimiser.step()
            if per_batch:
                scheduler.step()
        if not per_batch:
            scheduler.step()
    return lrs


def cosine(base_lr, epochs, warmup_epochs, min_lr, start_factor, batches):
    total, warmup = epochs * batches, warmup_epochs * batches
    if warmup == 0:
        make = lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=total, eta_min=min_lr)
    else:
        make = lambda o: lr_scheduler.SequentialLR(o, [
            lr_scheduler.LinearLR(o, start_factor=start_factor, end_factor=1.0, total_iters=warmup),
            lr_scheduler.CosineAnnealingLR(o, T_max=total - warmup, eta_min=min_lr)], milestones=[warmup])
    return {"kind": "cosine", "base_lr": base_lr, "epochs": epochs, "warmup_epochs": warmup_epochs, "min_lr": min_lr,
            "warmup_start_factor": start_factor, "batches_per_epoch": batches,
            "lrs": schedule_lrs(make, base_lr, epochs, batches, per_batch=True)}


def one_cycle(max_lr, epochs, batches, pct_start, div_factor, final_div_factor):
    make = lambda o: lr_scheduler.OneCycleLR(
        o, max_lr=max_lr, epochs=epochs, steps_per_epoch=batches, pct_start=pct_start, anneal_strategy="cos",
        cycle_momentum=False, div_factor=div_factor, final_div_factor=final_div_factor)
    return {"kind": "one_cycle", "max_lr": max_lr, "epochs": epochs, "batches_per_epoch": batches, "pct_start": pct_start,
            "div_factor": div_factor, "final_div_factor": final_div_factor,
            "lrs": schedule_lrs(make, max_lr, epochs, batches, per_batch=True)}


def schedules():
    return [
        {"kind": "step", "base_lr": 0.1, "step_epochs": 3, "gamma": 0.5, "epochs": 10, "batches_per_epoch": 2,
         "lrs": schedule_lrs(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 0.1, 10, 2, per_batch=False)},
        {"kind": "multi_step", "base_lr": 0.05, "milestones": [2, 5, 8], "gamma": 0.3, "epochs": 10, "batches_per_epoch": 1,
         "lrs": schedule_lrs(lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5, 8], gamma=0.3), 0.05, 10, 1, per_batch=False)},
        cosine(0.1, 6, 2, 1e-4, 0.1, 5),
        cosine(0.02, 4, 0, 0.0, 1.0, 3),
        cosine(0.5, 5, 1, 0.01, 0.25, 4),
        one_cycle(0.1, 5, 7, 0.3, 25.0, 1e4),
        one_cycle(0.02, 3, 10, 0.25, 10.0, 100.0),
    ]


def main():
    # SequentialLR steps the cosine scheduler with an explicit epoch at the milestone, which torch 1.13 warns about.
    warnings.filterwarnings("ignore", message="The epoch parameter")
    cases = [optimiser_case(*case) for case in OPTIMISERS]
    (HERE / "optimizers.json").write_text(json.dumps(cases, indent=None) + "\n")
    (HERE / "schedules.json").write_text(json.dumps(schedules(), indent=1) + "\n")


if __name__ == "__main__":
    main()
