# The exact optimum: least squares on the same 20 points as evaluate.py (closed form).
import random

rng = random.Random(0)
POINTS = [(float(i), 3.0 * i + 7.0 + rng.gauss(0.0, 2.0)) for i in range(1, 21)]

n = len(POINTS)
mean_x = sum(x for x, _ in POINTS) / n
mean_y = sum(y for _, y in POINTS) / n
w = sum((x - mean_x) * (y - mean_y) for x, y in POINTS) / sum((x - mean_x) ** 2 for x, _ in POINTS)
b = mean_y - w * mean_x
mse = sum((y - (w * x + b)) ** 2 for x, y in POINTS) / n
print(f"least squares: w={w:.4f} b={b:.4f} mse={mse:.4f}")
