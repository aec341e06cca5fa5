# The PyTorch peer of bench/trainos-mlp.ts: the same MLP (ReLU hidden layers, softmax cross-entropy), Adam, learning
# rate, batch size and epochs on the same CSV (features standardised with the training mean and spread, as the
# built-in trainer does), on one CPU thread. Prints one JSON line: wall and CPU seconds per epoch and the final
# training loss and accuracy.
#   /usr/bin/python3 bench/trainos_mlp_torch.py --csv FILE --target y --hidden 64,32 --epochs 5 --batch 32 --lr 0.001
import argparse
import csv
import json
import time

import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--csv", required=True)
parser.add_argument("--target", required=True)
parser.add_argument("--hidden", default="64,32")
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--lr", type=float, default=0.001)
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

torch.set_num_threads(1)
torch.manual_seed(args.seed)

with open(args.csv, newline="") as f:
    header, *body = list(csv.reader(f))
target = header.index(args.target)
x = np.array([[float(v) for j, v in enumerate(row) if j != target] for row in body], dtype=np.float64)
labels, y = np.unique([row[target] for row in body], return_inverse=True)
x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
x_t = torch.from_numpy(x)
y_t = torch.from_numpy(y.astype(np.int64))

sizes = [x.shape[1]] + [int(h) for h in args.hidden.split(",") if h] + [len(labels)]
layers = []
for i in range(len(sizes) - 1):
    layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
    if i < len(sizes) - 2:
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers)
optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
loss_fn = torch.nn.CrossEntropyLoss()

epoch_seconds = []
epoch_cpu_seconds = []
loss_sum = correct = 0.0
for epoch in range(args.epochs):
    start = time.perf_counter()
    cpu_start = time.process_time()
    order = torch.randperm(len(y_t))
    loss_sum = correct = 0.0
    for i in range(0, len(order), args.batch):
        idx = order[i : i + args.batch]
        xb, yb = x_t[idx], y_t[idx]
        optimizer.zero_grad()
        out = model(xb)
        loss = loss_fn(out, yb)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(idx)
        correct += (out.argmax(1) == yb).sum().item()
    epoch_seconds.append(time.perf_counter() - start)
    epoch_cpu_seconds.append(time.process_time() - cpu_start)

print(
    json.dumps(
        {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "epochSeconds": epoch_seconds,
            "epochCpuSeconds": epoch_cpu_seconds,
            "loss": loss_sum / len(y_t),
            "accuracy": correct / len(y_t),
        }
    )
)
