"""PyTorch peers of `sne bench`: the built-in teacher, SGEMM 512^3 (torch.mm) and the 3x3 conv shapes.

  teacher  the network of `sne train teacher` (width 32): [conv3x3+BN+ReLU] x2 -> maxpool2 ->
           [conv3x3+BN+ReLU] x2 -> maxpool2 -> conv3x3+BN+ReLU -> global avg pool -> dropout 0.1 ->
           linear(128->10); 1x28x28 random images, batch 128, cross-entropy, AdamW(lr 1e-3, wd 0.01).
           Prints training images/s (median of timed windows).
  mm       torch.mm 512x512x512, GFLOP/s.
  conv     forward / backward-data / backward-weight ms of every 3x3 (pad 1) conv shape that
           `sne bench conv` times (student batch 256 = T*B, teacher batch 128).

Install the peer in a throwaway venv outside the repository (about 5 GB; PyTorch's default wheel
pulls its CUDA libraries even to run on the CPU):
    python3 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install -q torch==2.15.0 snntorch==1.0.0
Run:  $SNE_PEERS_PYTHON bench/torch_peer_bench.py teacher|mm|conv [threads] [runs] [cpu]
(`cpu`: rates per second of process CPU time instead of wall time, as `sne bench --cpu-time`.)
`sne bench train` runs it itself when SNE_PEERS_PYTHON names that venv's python.
"""
import sys, time, statistics
import torch, torch.nn as nn

what = sys.argv[1] if len(sys.argv) > 1 else "teacher"
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
clock = time.process_time if len(sys.argv) > 4 and sys.argv[4] == "cpu" else time.perf_counter
torch.set_num_threads(threads)
torch.manual_seed(0)


def rate(body, min_seconds):
    """Median over `runs` windows of calls per second (each window at least min_seconds)."""
    body()
    rates = []
    for _ in range(runs):
        n, t0 = 0, clock()
        while True:
            body(); n += 1
            dt = clock() - t0
            if dt >= min_seconds: break
        rates.append(n / dt)
    return statistics.median(rates)


def teacher(width=32, classes=10):
    layers, cin = [], 1
    def block(cout):
        nonlocal cin
        layers.extend([nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]); cin = cout
    block(width); block(width); layers.append(nn.MaxPool2d(2))
    block(2 * width); block(2 * width); layers.append(nn.MaxPool2d(2))
    block(4 * width)
    layers += [nn.AvgPool2d(7), nn.Flatten(), nn.Dropout(0.1), nn.Linear(4 * width, classes)]
    return nn.Sequential(*layers)


if what == "teacher":
    B = 128
    net = teacher()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01)
    x = torch.rand(B, 1, 28, 28); y = torch.randint(0, 10, (B,))
    def step():
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward(); opt.step()
    for _ in range(2): step()
    r = rate(step, 1.0) * B
    print(f"torch teacher train images/s (threads={threads}, B={B}): median {r:.0f}")
elif what == "mm":
    a = torch.randn(512, 512); b = torch.randn(512, 512)
    for _ in range(10): torch.mm(a, b)
    r = rate(lambda: torch.mm(a, b), 0.15) * 2 * 512 ** 3 / 1e9
    print(f"torch.mm 512^3: median {r:.1f} GFLOP/s")
elif what == "conv":
    shapes = [("student conv1", 256, 1, 16, 28), ("student conv2", 256, 16, 32, 14),
              ("teacher conv1", 128, 1, 32, 28), ("teacher conv2", 128, 32, 32, 28), ("teacher conv3", 128, 32, 64, 14),
              ("teacher conv4", 128, 64, 64, 14), ("teacher conv5", 128, 64, 128, 7)]
    for label, n, cin, cout, hw in shapes:
        x = torch.randn(n, cin, hw, hw); w = torch.randn(cout, cin, 3, 3) * 0.1
        dy = torch.randn(n, cout, hw, hw)
        flops = 2.0 * n * cout * hw * hw * cin * 9
        fwd = rate(lambda: torch.nn.functional.conv2d(x, w, padding=1), 0.15)
        gi = torch.nn.grad.conv2d_input
        gw = torch.nn.grad.conv2d_weight
        bd = rate(lambda: gi(x.shape, w, dy, padding=1), 0.15) if cin > 1 else float("nan")
        bw = rate(lambda: gw(x, w.shape, dy, padding=1), 0.15)
        line = f"torch conv  {label:<13} 3x3 {cin}->{cout} {hw}x{hw} x{n}"
        line = f"{line:<50}"
        for name, r in (("fwd", fwd), ("bwd data", bd), ("bwd weight", bw)):
            line += f"  {name} -" if r != r else f"  {name} {1e3 / r:6.2f} ms {r * flops / 1e9:5.0f} GF/s"
        print(line)
else:
    sys.exit(f"torch_peer_bench.py: unknown benchmark '{what}' (teacher, mm, conv)")
