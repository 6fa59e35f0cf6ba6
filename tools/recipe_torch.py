#!/usr/bin/python3
# The recipe beyond the tutorial in PyTorch, with the semantics clfit gives the same flags:
#   clfit train --hidden 512,256 --activation gelu --dropout 0.2 --optimizer adamw
#               --weight-decay 1e-4 --lr-schedule cosine --warmup-epochs 1 --batch 128 --epochs 20
# Flatten -> [Linear(512), GELU (exact), Dropout(0.2)] -> [Linear(256), GELU, Dropout(0.2)]
# -> Linear(10); Glorot-uniform weights, zero biases; AdamW(lr 1e-3, betas .9/.999, eps 1e-7,
# weight decay 1e-4 on every parameter); LinearLR warm-up over the first epoch's steps, then
# CosineAnnealingLR to 0 over the rest, stepped every step; real Fashion-MNIST /255, shuffled
# each epoch. Prints the test accuracy and the training seconds.
# usage: /usr/bin/python3 tools/recipe_torch.py [--seed 0] [--epochs 20] [--threads 2]
import argparse, gzip, os, time
import numpy as np
import torch
import torch.nn as nn

DATA = os.environ.get("CLFIT_DATA", "/usr/share/datasets/fashion-mnist")


def idx(path):
    b = gzip.open(path).read()
    nd = b[3]
    dims = np.frombuffer(b, ">u4", count=nd, offset=4).astype(np.int64)
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


ap = argparse.ArgumentParser()
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--epochs", type=int, default=20)
ap.add_argument("--batch", type=int, default=128)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
xtr = torch.from_numpy(idx(DATA + "/train-images-idx3-ubyte.gz").reshape(60000, -1).astype(np.float32) / 255)
ytr = torch.from_numpy(idx(DATA + "/train-labels-idx1-ubyte.gz").astype(np.int64))
xte = torch.from_numpy(idx(DATA + "/t10k-images-idx3-ubyte.gz").reshape(10000, -1).astype(np.float32) / 255)
yte = torch.from_numpy(idx(DATA + "/t10k-labels-idx1-ubyte.gz").astype(np.int64))
model = nn.Sequential(nn.Linear(784, 512), nn.GELU(), nn.Dropout(0.2), nn.Linear(512, 256), nn.GELU(), nn.Dropout(0.2),
                      nn.Linear(256, 10))
for m in model:
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7, weight_decay=1e-4)
steps = (60000 + a.batch - 1) // a.batch
total, warm = a.epochs * steps, steps
sched = torch.optim.lr_scheduler.SequentialLR(
    opt, [torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0 / warm, end_factor=1.0, total_iters=warm - 1),
          torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warm, eta_min=0)], milestones=[warm])
lossf = nn.CrossEntropyLoss()
t0 = time.perf_counter()
for ep in range(a.epochs):
    model.train()
    perm = torch.randperm(60000)
    for i in range(0, 60000, a.batch):
        j = perm[i:i + a.batch]
        opt.zero_grad(set_to_none=True)
        lossf(model(xtr[j]), ytr[j]).backward()
        opt.step()
        sched.step()
train_s = time.perf_counter() - t0
model.eval()
with torch.no_grad():
    acc = (model(xte).argmax(1) == yte).float().mean().item()
print(f"torch {torch.__version__} seed {a.seed}: test accuracy {acc:.4f}, {train_s:.1f} s training ({train_s / a.epochs:.2f} s/epoch)")
