# Scores x = Python code defining make_model() (an sklearn estimator) by its accuracy on a validation split of the
# digits data (higher is better). The test split is never touched here: final_test.py scores the best x once.
# Runs in the sandbox with Debian's python3-sklearn: x is in /work/x.txt; prints {"score", "feedback"} last.
import json
import time
import warnings

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")
X, y = load_digits(return_X_y=True)
# 60 % train, 20 % validation (selection), 20 % test (reported once, by final_test.py)
X_rest, _X_test, y_rest, _y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=0.25, random_state=0, stratify=y_rest)

namespace = {}
exec(open("/work/x.txt").read(), namespace)
model = namespace["make_model"]()
started = time.time()
model.fit(X_train, y_train)
accuracy = model.score(X_val, y_val)
print(json.dumps({
    "score": round(float(accuracy), 4),
    "feedback": f"validation accuracy {accuracy:.4f} with {type(model).__name__}, fit in {time.time() - started:.1f} s",
}))
