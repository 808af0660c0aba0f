# Scores x = "w, b" (the line y = w * x + b) by its mean squared error on 20 points (lower is better).
# Runs in the sandbox: x is in /work/x.txt; prints {"score", "feedback"} as its last line.
import json
import random
import re

# y = 3x + 7 plus Gaussian noise (sd 2, seed 0); ground_truth.py builds the same points.
rng = random.Random(0)
POINTS = [(float(i), 3.0 * i + 7.0 + rng.gauss(0.0, 2.0)) for i in range(1, 21)]

numbers = re.findall(r"-?\d+(?:\.\d+)?", open("/work/x.txt").read())
if len(numbers) != 2:
    print(json.dumps({"score": 1e9, "feedback": "x must hold exactly two numbers, w and b, like: 2.5, 1.0"}))
else:
    w, b = float(numbers[0]), float(numbers[1])
    residuals = [y - (w * x + b) for x, y in POINTS]
    mse = sum(r * r for r in residuals) / len(residuals)
    mean_residual = sum(residuals) / len(residuals)
    side = "above" if mean_residual > 0 else "below"
    print(json.dumps({
        "score": round(mse, 4),
        "feedback": f"w={w:g}, b={b:g}: mean squared error {mse:.4f}; "
        f"on average the points lie {abs(mean_residual):.3f} {side} the line",
    }))
