# Plays one factory session with the candidate script x, then scores the paperclips at the end of the window.
# Runs in the sandbox; the factory is reachable only as http://localhost:8000 (the granted Unix socket).
import json
import time
import urllib.error
import urllib.request

FACTORY = "http://localhost:8000"
session = json.load(urllib.request.urlopen(urllib.request.Request(FACTORY + "/sessions", method="POST")))
BASE = f"{FACTORY}/s/{session['id']}"
started = time.time()
error = None
try:
    exec(open("/work/x.txt").read(), {"BASE": BASE, "__name__": "__main__"})
except Exception as failure:  # the candidate's own failure is feedback, not an evaluator crash
    error = f"{type(failure).__name__}: {failure}"
time.sleep(max(0.0, session["windowMs"] / 1000 - (time.time() - started)) + 0.05)
state = json.load(urllib.request.urlopen(BASE))
feedback = f"{state['clips']} paperclips and {state['machines']} machines at the end of the window"
if error:
    feedback += f"; the script raised {error}"
print(json.dumps({"score": state["clips"], "feedback": feedback}))
