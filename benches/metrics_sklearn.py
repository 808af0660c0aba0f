"""The scikit-learn + pandas way to compute what `opt-native metrics` reports (overall accuracy, balanced
accuracy, macro-F1, balanced accuracy per value of 3 condition columns and their macro), timed once per setup.
Same shape as benches/metrics.bench.ts: 2 labels + unknown predictions, conditions with 8 × 6 × 5 values.

  /work/tools/ref/bin/python benches/metrics_sklearn.py [rows=10000000] [--parquet PATH]

With --parquet it also writes the string-valued table to PATH and times pandas.read_parquet + the same
scores, to compare with `opt-native metrics --input PATH` / metricsFromFile end to end.
"""

import sys
import warnings
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

CONDITIONS = {
    "snr": ["-10", "-5", "0", "5", "10", "15", "20", "clean"],
    "duration": ["20ms", "40ms", "80ms", "200ms", "500ms", "1000ms"],
    "noise": ["white", "pink", "babble", "music", "none"],
}
warnings.filterwarnings("ignore")  # "y_pred contains classes not in y_true": unknown predictions
LABELS = np.array(["SPEECH", "NON-SPEECH", "unknown"])


def make_codes(n, seed=12345):
    rng = np.random.default_rng(seed)
    label = (rng.random(n) >= 0.4).astype(np.int64)
    r = rng.random(n)
    pred = np.where(r < 0.8, label, np.where(r < 0.97, 1 - label, 2))
    df = pd.DataFrame({"label": label, "pred": pred})
    for name, values in CONDITIONS.items():
        df[name] = rng.integers(0, len(values), size=n)
    return df


def as_strings(df):
    out = pd.DataFrame({"label": LABELS[df["label"]], "pred": LABELS[df["pred"]]})
    for name, values in CONDITIONS.items():
        out[name] = np.array(values)[df[name]]
    return out


def scores(df):
    y_true, y_pred = df["label"], df["pred"]
    report = {
        "accuracy": accuracy_score(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        "macro_f1": f1_score(y_true, y_pred, average="macro"),
    }
    column_means = []
    for name in CONDITIONS:
        per_value = df.groupby(name).apply(
            lambda g: balanced_accuracy_score(g["label"], g["pred"]), include_groups=False
        )
        column_means.append(per_value.mean())
    report["ba_conditions_macro"] = float(np.mean(column_means))
    return report


def timed(what, work):
    start = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - start
    print(f"{what}: {elapsed * 1000:.0f} ms  (balanced_accuracy {result['balanced_accuracy']:.6f})")
    return elapsed


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 10_000_000
    print(f"scikit-learn {sklearn.__version__}, pandas {pd.__version__}, numpy {np.__version__}; {n:,} rows")
    codes = make_codes(n)
    timed("sklearn+pandas, integer codes", lambda: scores(codes))
    strings = as_strings(codes)
    timed("sklearn+pandas, string columns", lambda: scores(strings))
    if "--parquet" in sys.argv:
        path = sys.argv[sys.argv.index("--parquet") + 1]
        strings.to_parquet(path, index=False)
        timed("pandas.read_parquet + sklearn", lambda: scores(pd.read_parquet(path)))


if __name__ == "__main__":
    main()
