#!/usr/bin/env python3
"""Train a small PyTorch CNN on Fashion-MNIST and write its per-sample outputs for `sne train`.

Writes, in the order of the training set (train-images-idx3-ubyte):
  teacher_features.npy   float32 [60000, D]   the penultimate (pre-classifier) features
  teacher_logits.npy     float32 [60000, 10]  the logits
  teacher_test_features.npy, teacher_test_logits.npy   the same on the 10,000 test images
and, with --safetensors, teacher.safetensors holding both tensors ("features", "logits").

The features are computed on the *unaugmented* training images: sne's students see exactly these
images, so the targets match their input. Then:

  sne train sne --dataset fashion-mnist \
      --teacher-features teacher_features.npy --teacher-logits teacher_logits.npy \
      --teacher-test-features teacher_test_features.npy --teacher-test-logits teacher_test_logits.npy --out runs/fm-ext

Usage: python make_teacher.py [--data DIR] [--epochs N] [--limit N] [--safetensors]
(needs torch and numpy: python3 -m venv ~/.venvs/teacher && ~/.venvs/teacher/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu && ~/.venvs/teacher/bin/pip install numpy)
"""
import argparse, gzip, os, struct
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, f"{path}: not an unsigned-byte IDX file"
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Teacher(nn.Module):
    def __init__(self, width=32, classes=10):
        super().__init__()
        w = width
        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())
        self.body = nn.Sequential(block(1, w), block(w, w), nn.MaxPool2d(2),
                                  block(w, 2 * w), block(2 * w, 2 * w), nn.MaxPool2d(2),
                                  block(2 * w, 4 * w), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(4 * w, classes)

    def forward(self, x):
        f = self.body(x)
        return f, self.fc(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/fashion-mnist"))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None, help="use the first N training images (quick runs)")
    ap.add_argument("--out", default=".")
    ap.add_argument("--safetensors", action="store_true")
    a = ap.parse_args()
    torch.manual_seed(1)
    x = read_idx(os.path.join(a.data, "train-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz"))
    if a.limit:
        x, y = x[:a.limit], y[:a.limit]
    xt = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)   # sne's float input: uint8 / 255
    yt = torch.from_numpy(y.astype(np.int64))
    model = Teacher()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    steps = a.epochs * (len(xt) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=max(steps, 1))
    for epoch in range(a.epochs):
        model.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt) - 127, 128):
            idx = perm[i:i + 128]
            xb = xt[idx]
            # augmentation for the teacher only: random shifts of up to 2 pixels and flips
            xb = torch.roll(xb, shifts=(int(torch.randint(-2, 3, ())), int(torch.randint(-2, 3, ()))), dims=(2, 3))
            if torch.rand(()) < 0.5:
                xb = xb.flip(3)
            _, z = model(xb)
            loss = F.cross_entropy(z, yt[idx])
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        print(f"epoch {epoch + 1}/{a.epochs}: loss {loss.item():.4f}", flush=True)
    model.eval()

    def outputs(images):
        fs, zs = [], []
        with torch.no_grad():
            for i in range(0, len(images), 1000):
                f, z = model(images[i:i + 1000])   # unaugmented: what the students see
                fs.append(f); zs.append(z)
        return torch.cat(fs).numpy().astype(np.float32), torch.cat(zs).numpy().astype(np.float32)

    feats, logits = outputs(xt)
    # The test split too (--teacher-test-features/--teacher-test-logits): per-student test R²
    # while training, and the teacher's test accuracy in `sne eval` and `sne check`.
    xs = read_idx(os.path.join(a.data, "t10k-images-idx3-ubyte.gz"))
    ys = read_idx(os.path.join(a.data, "t10k-labels-idx1-ubyte.gz"))
    tf, tz = outputs(torch.from_numpy(xs.astype(np.float32) / 255.0).unsqueeze(1))
    np.save(os.path.join(a.out, "teacher_test_features.npy"), tf)
    np.save(os.path.join(a.out, "teacher_test_logits.npy"), tz)
    print(f"wrote teacher_test_features.npy {tf.shape} and teacher_test_logits.npy {tz.shape}; "
          f"test accuracy {(tz.argmax(1) == ys).mean() * 100:.2f}% on {len(ys)} images")
    np.save(os.path.join(a.out, "teacher_features.npy"), feats)
    np.save(os.path.join(a.out, "teacher_logits.npy"), logits)
    print(f"wrote teacher_features.npy {feats.shape} and teacher_logits.npy {logits.shape}; "
          f"train accuracy {(logits.argmax(1) == y).mean() * 100:.2f}%")
    if a.safetensors:
        from safetensors.numpy import save_file
        save_file({"features": feats, "logits": logits}, os.path.join(a.out, "teacher.safetensors"))
        print("wrote teacher.safetensors")


if __name__ == "__main__":
    main()
