"""PyTorch MLP on a CSV table: a classifier (or a regressor) tracked, checkpointed and resumed through AI-DOS.

As a job (the AI-DOS job runner sets AIDOS_URL, AIDOS_TOKEN, AIDOS_RUN_ID, AIDOS_JOB_ID and mounts the dataset
as AIDOS_DATASET_TRAIN):

    python3 train.py --target species --epochs 30

Bare, on any machine (no AIDOS_URL and no AIDOS_RUN_ID in the environment, or --no-log: the SDK is not used):

    python3 train.py --data-dir ./data --target species --output-dir ./out

See README.md beside this file.
"""

from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKPOINT_FORMAT = 1


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train a PyTorch MLP on a CSV table (AI-DOS template pytorch-tabular).")
    p.add_argument(
        "--data-dir",
        default=os.environ.get("AIDOS_DATASET_TRAIN") or None,
        help="folder holding the table (default: $AIDOS_DATASET_TRAIN, the dataset a job mounts as TRAIN)",
    )
    p.add_argument("--file", default="", help="the CSV file, inside --data-dir or absolute (default: the first .csv)")
    p.add_argument("--target", required=True, help="the column to predict")
    p.add_argument("--task", choices=("classification", "regression"), default="classification")
    p.add_argument("--ignore", default="", help="comma-separated columns to leave out (ids, leaks)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", default="64,32", help="hidden layer widths, comma-separated ('' for none)")
    p.add_argument("--val-fraction", type=float, default=0.2, help="share of the rows held out for validation")
    p.add_argument("--seed", type=int, default=0, help="seeds the split, the initial weights and the shuffling")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for PyTorch (torch.set_num_threads)")
    p.add_argument("--device", default="auto", help="auto (a GPU if one is visible), cpu, cuda, cuda:1…")
    p.add_argument(
        "--output-dir",
        default="",
        help="where the model is written (default: a temporary folder, removed once uploaded)",
    )
    p.add_argument(
        "--checkpoint-every",
        default="60",
        help="seconds between checkpoints (one at the first step past them, and one after the last epoch), "
        "or 'epoch' for one after every epoch",
    )
    p.add_argument("--resume", default="", help="a checkpoint file to continue from (as a job: the SDK finds it)")
    p.add_argument(
        "--no-log",
        action="store_true",
        help="do not use the SDK at all: no run, no metrics, no checkpoints, no artifacts",
    )
    args = p.parse_args(argv)
    try:
        args.hidden_sizes = [int(h) for h in args.hidden.replace(" ", "").split(",") if h]
    except ValueError:
        p.error(f"--hidden takes comma-separated integers, got {args.hidden!r}")
    if any(h < 1 for h in args.hidden_sizes):
        p.error("--hidden widths must be 1 or more")
    if args.epochs < 1 or args.batch_size < 1 or args.threads < 1 or args.lr <= 0:
        p.error("--epochs, --batch-size, --threads and --lr must be positive")
    if not 0.0 < args.val_fraction < 1.0:
        p.error("--val-fraction must be between 0 and 1")
    args.ignore_columns = [c.strip() for c in args.ignore.split(",") if c.strip()]
    args.checkpoint_interval_s = None  # after every epoch
    if args.checkpoint_every.strip().lower() != "epoch":
        try:
            args.checkpoint_interval_s = float(args.checkpoint_every)
        except ValueError:
            args.checkpoint_interval_s = -1.0
        if not 0 < args.checkpoint_interval_s < math.inf:
            p.error(f"--checkpoint-every takes a number of seconds above 0 or 'epoch', got {args.checkpoint_every!r}")
    return args


class Tracker:
    """The SDK when it is used, else nothing: the same calls either way."""

    def __init__(self, args: argparse.Namespace) -> None:
        env = os.environ
        self.enabled = not args.no_log and bool(env.get("AIDOS_RUN_ID") or env.get("AIDOS_URL"))
        self.aidos: Any = None
        self.checkpoints = False
        if not self.enabled:
            return
        try:
            import aidos
        except ImportError:
            # A checkout of AI-DOS: the SDK's sources are two folders up from resources/.
            sdk = os.path.join(HERE, "..", "..", "..", "sdk", "python", "src")
            if not os.path.isdir(os.path.join(sdk, "aidos")):
                raise SystemExit(
                    "error: the aidos SDK is not installed (pip install <AI-DOS>/sdk/python), "
                    "or pass --no-log to train without it"
                ) from None
            sys.path.insert(0, os.path.abspath(sdk))
            import aidos
        self.aidos = aidos
        # Checkpoints go to the job; outside one (a run tracked by hand) there is nowhere to keep them.
        self.checkpoints = bool(env.get("AIDOS_JOB_ID"))

    def init(self, config: Dict[str, Any]) -> None:
        if not self.enabled:
            return
        run_id = os.environ.get("AIDOS_RUN_ID")
        if run_id:
            # A job from the template has its parameters logged already (as the form gave them: "1e-05" may be
            # "0.00001" here), and a resumed attempt has this config from the first: a param cannot change.
            try:
                logged = self.aidos.Api().run(run_id).params
            except self.aidos.NotFoundError:
                logged = {}
            config = {k: v for k, v in config.items() if k not in logged}
        run = self.aidos.init("pytorch-tabular", config=config)
        # Called every training step: the run's method itself, not through this class and the module's function
        # (each Python call between PyTorch's steps costs about a microsecond, a quarter percent of a small step).
        self.log = run.log  # type: ignore[method-assign]

    @staticmethod
    def log(metrics: Dict[str, float], step: int) -> None:
        """Nothing without the SDK; init() puts the run's own ``log`` here."""

    def resume_point(self) -> Any:
        return self.aidos.resume_checkpoint() if self.enabled else None

    def save_checkpoint(self, path: str, step: int, wait: bool) -> Any:
        """Uploads a checkpoint file as checkpoint.pt; without ``wait``, returns a future (the file must stay)."""
        return self.aidos.save_checkpoint(path, step, name="checkpoint.pt", wait=wait)

    def log_artifact(self, path: str) -> bool:
        if not self.enabled:
            return False
        self.aidos.log_artifact(path)
        return True

    def finish(self, status: str = "FINISHED") -> None:
        if self.enabled:
            self.aidos.finish(status)


def main(argv: Optional[List[str]] = None) -> int:
    started = time.perf_counter()
    args = parse_args(argv)
    # Before numpy and torch load: their thread pools size themselves from these.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))

    # SIGTERM (cancel, preemption, maximum runtime): finish the step, checkpoint, exit 143. Installed before
    # aidos.init() so that the SDK leaves SIGTERM to this script.
    stop = {"requested": False}

    def on_sigterm(signum: int, frame: Any) -> None:
        if not stop["requested"]:
            print("SIGTERM: stopping after this step", flush=True)
        stop["requested"] = True

    signal.signal(signal.SIGTERM, on_sigterm)

    import numpy as np
    import torch
    from torch import nn

    # This folder may be shared by many jobs, or read-only: no __pycache__ in it.
    sys.dont_write_bytecode = True
    sys.path.insert(0, HERE)
    import tabular

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set (only possible once per process)
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    tracker = Tracker(args)

    # The data: a seeded split, preprocessing fitted on the training rows only.
    table = tabular.find_table(args.data_dir, args.file)
    header, rows = tabular.read_table(table)
    if args.target not in header:
        raise SystemExit(f"error: no column {args.target!r} in {table} (it has: {', '.join(header)})")
    rows = tabular.with_target(header, rows, args.target, args.task)
    if len(rows) < 2:
        raise SystemExit(f"error: {table} has fewer than 2 rows with a {args.target!r} value")
    order = np.random.RandomState(args.seed).permutation(len(rows))
    n_val = min(len(rows) - 1, max(1, int(round(len(rows) * args.val_fraction))))
    val_rows = [rows[i] for i in order[:n_val]]
    train_rows = [rows[i] for i in order[n_val:]]

    resume_path, resume_step = "", None
    if args.resume:
        resume_path = args.resume
    else:
        point = tracker.resume_point()
        if point is not None:
            resume_path, resume_step = point.path, point.step
    state: Optional[Dict[str, Any]] = None
    if resume_path:
        state = load_checkpoint(torch, resume_path, device)
        if resume_step is not None and state["global_step"] != resume_step:
            raise SystemExit(
                f"error: the checkpoint holds step {state['global_step']}, AIDOS_RESUME_STEP says {resume_step}"
            )
        saved = state["args"]
        for key in ("target", "task", "hidden_sizes", "batch_size"):
            if saved[key] != getattr(args, key):
                raise SystemExit(
                    f"error: the checkpoint was made with {key}={saved[key]!r}, not {getattr(args, key)!r}"
                )
        stats = state["preprocessing"]
    else:
        stats = tabular.fit(header, train_rows, rows, args.target, args.task, args.ignore_columns)

    x_train = torch.from_numpy(tabular.encode(stats, header, train_rows)).to(device)
    y_train = torch.from_numpy(tabular.targets(stats, header, train_rows)).to(device)
    x_val = torch.from_numpy(tabular.encode(stats, header, val_rows)).to(device)
    y_val = torch.from_numpy(tabular.targets(stats, header, val_rows)).to(device)
    classification = args.task == "classification"
    outputs = len(stats["classes"]) if classification else 1
    loaded_s = time.perf_counter() - started

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    model = build_model(nn, stats["width"], args.hidden_sizes, outputs).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn: Any = nn.CrossEntropyLoss() if classification else nn.MSELoss()
    shuffler = torch.Generator()
    shuffler.manual_seed(args.seed)

    n_train = x_train.shape[0]
    steps_per_epoch = math.ceil(n_train / args.batch_size)
    epoch, batch_in_epoch, global_step = 0, 0, 0
    perm: Any = None
    loss_sum, loss_count = 0.0, 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        epoch, batch_in_epoch, global_step = state["epoch"], state["batch_in_epoch"], state["global_step"]
        perm = state["perm"]
        loss_sum, loss_count = state["loss_sum"], state["loss_count"]
        torch.set_rng_state(state["rng"]["torch"])
        shuffler.set_state(state["rng"]["shuffler"])
        random.setstate(state["rng"]["python"])
        if device.type == "cuda" and state["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(state["rng"]["cuda"], device)
        print(f"resuming from step {global_step} (epoch {epoch + 1}, batch {batch_in_epoch})", flush=True)

    config = {
        "target": args.target,
        "task": args.task,
        "table": os.path.basename(table),
        "epochs": args.epochs,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "hidden": ",".join(map(str, args.hidden_sizes)),
        "val_fraction": args.val_fraction,
        "seed": args.seed,
        "threads": args.threads,
        "rows_train": len(train_rows),
        "rows_val": len(val_rows),
        "features": stats["width"],
    }
    tracker.init(config)
    print(
        f"{args.task}: {len(train_rows)} training rows, {len(val_rows)} validation rows, {stats['width']} inputs, "
        f"{outputs} outputs, {steps_per_epoch} steps per epoch, on {device}",
        flush=True,
    )

    job_id = os.environ.get("AIDOS_JOB_ID", "")
    if job_id.isalnum():
        # One per job: an attempt after a SIGKILL removes what the killed one left.
        scratch = os.path.join(tempfile.gettempdir(), f"pytorch-tabular-job-{job_id}")
        shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(scratch)
    else:
        scratch = tempfile.mkdtemp(prefix="pytorch-tabular-")
    atexit.register(shutil.rmtree, scratch, True)  # also when training fails

    spent = {"checkpoint_s": 0.0, "log_s": 0.0}
    # Each step's wall time (its logging included), for the timing line's median: unlike the loop's total, a
    # median step is not moved by a few slow seconds of a shared machine.
    step_s: List[float] = []
    # Checkpoints upload in the SDK's background thread while training goes on: (future, file) of each one still
    # on its way. Each has a file of its own, removed once it is uploaded.
    pending: List[Any] = []
    # When the next checkpoint is due, on perf_counter's clock (never mid-epoch with --checkpoint-every epoch).
    interval = args.checkpoint_interval_s
    saves_checkpoints = tracker.enabled and tracker.checkpoints
    next_checkpoint_at = math.inf

    def settle(every: bool) -> None:
        """Removes the files of the checkpoints that are uploaded (with ``every``: waits for all of them)."""
        left = []
        for future, file in pending:
            if not (every or future.done()):
                left.append((future, file))
                continue
            error = future.exception()
            if error is not None:
                print(f"warning: the checkpoint of {os.path.basename(file)} was not saved: {error}", flush=True)
            os.remove(file)
        pending[:] = left

    def checkpoint(wait: bool) -> None:
        """Saves the whole training state at ``global_step``; ``wait``: uploaded before it returns (when stopping)."""
        nonlocal next_checkpoint_at
        if not saves_checkpoints:
            return
        began = time.perf_counter()
        settle(every=wait)
        rng = {
            "torch": torch.get_rng_state(),
            "shuffler": shuffler.get_state(),
            "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        }
        path = os.path.join(scratch, f"checkpoint-{global_step}.pt")
        torch.save(
            {
                "format": CHECKPOINT_FORMAT,
                "args": {k: getattr(args, k) for k in ("target", "task", "hidden_sizes", "batch_size")},
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": epoch,
                "batch_in_epoch": batch_in_epoch,
                "global_step": global_step,
                "perm": perm if batch_in_epoch else None,
                "loss_sum": loss_sum,
                "loss_count": loss_count,
                "rng": rng,
                "preprocessing": stats,
            },
            path,
        )
        future = tracker.save_checkpoint(path, global_step, wait=wait)
        if wait or future is None:
            os.remove(path)
        else:
            pending.append((future, path))
        ended = time.perf_counter()
        spent["checkpoint_s"] += ended - began
        if interval is not None:
            next_checkpoint_at = ended + interval

    def stopped() -> int:
        settle(every=True)
        print(f"stopped at step {global_step}", flush=True)
        tracker.finish("KILLED")
        shutil.rmtree(scratch, ignore_errors=True)
        return 128 + signal.SIGTERM

    if stop["requested"]:
        return stopped()

    train_started, train_cpu_started = time.perf_counter(), time.process_time()
    main_cpu_started = time.thread_time()
    if saves_checkpoints and interval is not None:
        next_checkpoint_at = train_started + interval
    while epoch < args.epochs:
        model.train()
        if batch_in_epoch == 0 or perm is None:
            perm = torch.randperm(n_train, generator=shuffler)
        for b in range(batch_in_epoch, steps_per_epoch):
            step_started = time.perf_counter()
            index = perm[b * args.batch_size : (b + 1) * args.batch_size].to(device)
            optimizer.zero_grad(set_to_none=True)
            out = model(x_train[index])
            loss = loss_fn(out, y_train[index]) if classification else loss_fn(out.squeeze(1), y_train[index])
            loss.backward()
            optimizer.step()
            value = float(loss.item())
            global_step += 1
            batch_in_epoch = b + 1
            loss_sum += value * len(index)
            loss_count += len(index)
            logged = time.perf_counter()
            tracker.log({"loss": value}, global_step)
            step_ended = time.perf_counter()
            spent["log_s"] += step_ended - logged
            step_s.append(step_ended - step_started)
            if stop["requested"] and batch_in_epoch < steps_per_epoch:
                checkpoint(wait=True)
                return stopped()
            # Mid-epoch when due; an epoch's last step is left to the epoch's end, after its validation metrics.
            if step_ended >= next_checkpoint_at and batch_in_epoch < steps_per_epoch:
                checkpoint(wait=False)

        metrics = evaluate(torch, model, x_val, y_val, loss_fn, classification, stats)
        metrics = {"epoch": epoch + 1, "train_loss": loss_sum / max(1, loss_count), **metrics}
        tracker.log(metrics, global_step)
        print(
            f"epoch {epoch + 1}/{args.epochs} step {global_step} "
            + " ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k != "epoch"),
            flush=True,
        )
        epoch += 1
        batch_in_epoch, loss_sum, loss_count = 0, 0.0, 0
        perm = None
        if interval is None or stop["requested"] or epoch == args.epochs or time.perf_counter() >= next_checkpoint_at:
            checkpoint(wait=stop["requested"])
        if stop["requested"] and epoch < args.epochs:
            return stopped()
    # The last uploads belong to the loop's time (and must land while the job runs).
    waited = time.perf_counter()
    settle(every=True)
    spent["checkpoint_s"] += time.perf_counter() - waited
    train_s = time.perf_counter() - train_started
    train_cpu_s = time.process_time() - train_cpu_started
    main_cpu_s = time.thread_time() - main_cpu_started

    out_dir = args.output_dir or os.path.join(scratch, "out")
    model_dir = os.path.join(out_dir, "model")
    os.makedirs(model_dir, exist_ok=True)
    model.eval()
    scripted = torch.jit.script(model.cpu())
    scripted.save(os.path.join(model_dir, "model.pt"))
    with open(os.path.join(model_dir, "preprocessing.json"), "w", encoding="utf-8") as f:
        json.dump({**stats, "hidden": args.hidden_sizes}, f, indent=2)
    uploaded = tracker.log_artifact(model_dir)
    if not uploaded and not args.output_dir:
        kept = tempfile.mkdtemp(prefix="pytorch-tabular-out-")
        shutil.move(model_dir, kept)
        model_dir = os.path.join(kept, "model")
    print(f"model: {'uploaded as the artifacts model/' if uploaded else model_dir}", flush=True)
    tracker.finish()
    shutil.rmtree(scratch, ignore_errors=True)
    timing = {
        "load_s": round(loaded_s, 3),
        "train_s": round(train_s, 3),
        "train_cpu_s": round(train_cpu_s, 3),
        "other_threads_cpu_s": round(max(0.0, train_cpu_s - main_cpu_s), 3),
        "log_s": round(spent["log_s"], 3),
        "checkpoint_s": round(spent["checkpoint_s"], 3),
        # The median step, and what the loop spent outside its steps (validation, checkpoints, the last uploads).
        "step_median_us": round(statistics.median(step_s) * 1e6, 1) if step_s else None,
        "between_steps_s": round(train_s - sum(step_s), 3),
    }
    timing["total_s"] = round(time.perf_counter() - started, 3)
    print("timing " + json.dumps(timing), flush=True)
    return 0


def build_model(nn: Any, inputs: int, hidden: List[int], outputs: int) -> Any:
    layers: List[Any] = []
    width = inputs
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


def evaluate(
    torch: Any, model: Any, x: Any, y: Any, loss_fn: Any, classification: bool, stats: Dict[str, Any]
) -> Dict[str, float]:
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(x[i : i + 8192]) for i in range(0, x.shape[0], 8192)])
        if classification:
            return {
                "val_loss": float(loss_fn(out, y).item()),
                "val_accuracy": float((out.argmax(1) == y).float().mean().item()),
            }
        pred = out.squeeze(1)
        # RMSE and MAE in the target's own units; the loss is on the standardised target.
        err = (pred - y) * stats["target_std"]
        return {
            "val_loss": float(loss_fn(pred, y).item()),
            "val_rmse": float(torch.sqrt((err**2).mean()).item()),
            "val_mae": float(err.abs().mean().item()),
        }


def load_checkpoint(torch: Any, path: str, device: Any) -> Dict[str, Any]:
    # The job's own checkpoint, from its own server: trusted. (PyTorch 1.13's weights-only loader cannot read
    # the optimizer's float hyperparameters; 2.6 made it the default.)
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except TypeError:  # PyTorch before 1.13 has no weights_only
        state = torch.load(path, map_location=device)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise SystemExit(f"error: {path} is not a checkpoint of this template")
    # RNG states must be CPU byte tensors whatever map_location did.
    state["rng"] = {k: (v.cpu() if hasattr(v, "cpu") else v) for k, v in state["rng"].items()}
    if state["rng"].get("python") is not None:
        version, internal, gauss = state["rng"]["python"]
        state["rng"]["python"] = (version, tuple(internal), gauss)
    if state.get("perm") is not None:
        state["perm"] = state["perm"].cpu()
    return state


if __name__ == "__main__":
    sys.exit(main())
