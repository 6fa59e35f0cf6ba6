#!/usr/bin/python3
# Writes tests/data/torch_reference.txt: PyTorch's own optimizers and lr schedulers on fixed
# inputs, which tests/check_ref.c replays through clfit's CPU reference (clfit_ref_optim_step,
# clfit_optim_lr, clfit_optim_epoch_end). Needs torch (Debian's python3-torch will do); the
# test needs only the file. Run from the repository root:
#   /usr/bin/python3 tools/torch_reference.py > tests/data/torch_reference.txt
#
# The parameters are those of a 3-2-2 MLP in clfit's order: dense_0.weight (3x2, [in, out]),
# dense_0.bias (2), dense_1.weight (2x2), dense_1.bias (2): 14 floats; "weights" marks the
# ones L2 applies to. 20 steps, each with its own gradient.
import math
import numpy as np
import torch

torch.set_default_dtype(torch.float32)
N, STEPS, B = 14, 20, 8
WEIGHT = [1] * 6 + [0] * 2 + [1] * 4 + [0] * 2
rng = np.random.default_rng(20261202)
p0 = rng.uniform(-0.8, 0.8, N).astype(np.float32)
grads = rng.normal(0.0, 0.5, (STEPS, N)).astype(np.float32)


def fmt(a):
    return " ".join(f"{float(x):.9g}" for x in np.asarray(a, dtype=np.float32).ravel())


print("# PyTorch", torch.__version__, "- made by tools/torch_reference.py")
print("params", N, fmt(p0))
print("grads", STEPS, N, fmt(grads))

# Adam's eps: clfit's is Keras' (added to sqrt(v) after the bias correction is folded into
# the step size), PyTorch's is added to sqrt(v_hat): the same update with eps scaled by
# sqrt(1 - beta2^t). The Adam cases use eps 1e-10, at which the placement changes an update
# by less than 1e-7 relative for these gradients, so that they compare the rest exactly;
# check_ref's test_adam_by_hand holds Keras' placement itself.
# name, clfit optimizer, lr, beta1, beta2 (rmsprop: rho), eps, momentum, nesterov, weight decay, l2, clipnorm
cases = [
    ("adam", "adam", 1e-3, 0.9, 0.999, 1e-10, 0, 0, 0, 0, 0),
    ("adam_wd", "adam", 1e-2, 0.9, 0.999, 1e-10, 0, 0, 0.01, 0, 0),
    ("adamw", "adamw", 1e-2, 0.9, 0.999, 1e-10, 0, 0, 0.05, 0, 0),
    ("sgd", "sgd", 0.1, 0, 0, 0, 0, 0, 0, 0, 0),
    ("sgd_momentum", "sgd", 0.05, 0, 0, 0, 0.9, 0, 0, 0, 0),
    ("sgd_nesterov_wd", "sgd", 0.05, 0, 0, 0, 0.9, 1, 1e-3, 0, 0),
    ("rmsprop", "rmsprop", 1e-3, 0, 0.9, 1e-7, 0, 0, 0, 0, 0),
    ("rmsprop_momentum_wd", "rmsprop", 1e-3, 0, 0.9, 1e-7, 0.5, 0, 1e-3, 0, 0),
    ("sgd_l2", "sgd", 0.1, 0, 0, 0, 0, 0, 0, 0.5, 0),
    ("adam_clip", "adam", 1e-2, 0.9, 0.999, 1e-10, 0, 0, 0, 0, 0.3),
]
for name, kind, lr, b1, b2, eps, mom, nest, wd, l2, clip in cases:
    p = torch.tensor(p0.copy(), requires_grad=True)
    if kind == "adam":
        opt = torch.optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    elif kind == "adamw":
        opt = torch.optim.AdamW([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    elif kind == "sgd":
        opt = torch.optim.SGD([p], lr=lr, momentum=mom, nesterov=bool(nest), weight_decay=wd)
    else:
        opt = torch.optim.RMSprop([p], lr=lr, alpha=b2, eps=eps, momentum=mom, weight_decay=wd)
    after = []
    w = torch.tensor(WEIGHT, dtype=torch.float32)
    for s in range(STEPS):
        g = torch.tensor(grads[s])
        if l2:  # scikit-learn's alpha: the loss gains l2/(2B) |W|^2, the gradient (l2/B) W
            g = g + (l2 / B) * p.detach() * w
        p.grad = g.clone()
        if clip:
            torch.nn.utils.clip_grad_norm_([p], clip)
        opt.step()
        after.append(p.detach().numpy().copy())
    print("case", name, kind, lr, b1, b2, eps, mom, nest, wd, l2, clip, B)
    print("after", fmt(np.array(after)))


# schedules: the lr of each step of EPOCHS epochs of STEPS_PER steps (plateau: per epoch,
# from a given sequence of monitored losses)
def sched_lrs(make, epochs, per, per_step, monitored=None):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sch = make(opt)
    out = []
    for e in range(epochs):
        for k in range(per):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            if per_step:
                sch.step()
        if not per_step:
            sch.step(monitored[e]) if monitored is not None else sch.step()
    return out


E, PER, W = 5, 7, 10  # cosine: 10 warm-up steps of 35
cos = sched_lrs(lambda o: torch.optim.lr_scheduler.SequentialLR(
    o, [torch.optim.lr_scheduler.LinearLR(o, start_factor=1.0 / W, end_factor=1.0, total_iters=W - 1),
        torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=E * PER - W, eta_min=0)], milestones=[W]), E, PER, True)
print("schedule cosine 0.1", E, PER, W / PER, fmt(cos))
expo = sched_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8), E, PER, False)
print("schedule exponential 0.1", E, PER, 0.8, fmt(expo))
mon = [1.0, 0.9, 0.9, 0.95, 0.91, 0.9, 0.89999, 0.7, 0.71, 0.72, 0.73, 0.74]
plat = sched_lrs(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=2),
                 len(mon), 1, False, mon)
print("schedule plateau 0.1", len(mon), 1, "0.5 2", fmt(mon), fmt(plat))
