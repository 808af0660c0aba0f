# Scores x = a tour of the 10 cities (a permutation of 0..9, comma separated) by its closed length (lower is better).
# Runs in the sandbox: x is in /work/x.txt; prints {"score", "feedback"} as its last line.
import json
import math
import re

# 10 cities on a 100 x 100 grid; ground_truth.py holds the same list and finds the exact optimum.
CITIES = [(54, 8), (85, 60), (12, 44), (70, 93), (33, 71), (96, 19), (5, 90), (47, 38), (24, 12), (78, 36)]


def length(tour):
    return sum(math.dist(CITIES[a], CITIES[b]) for a, b in zip(tour, tour[1:] + tour[:1]))


tour = [int(token) for token in re.findall(r"\d+", open("/work/x.txt").read())]
missing = sorted(set(range(len(CITIES))) - set(tour))
repeated = sorted({city for city in tour if tour.count(city) > 1})
unknown = sorted({city for city in tour if city >= len(CITIES)})
if missing or repeated or unknown or len(tour) != len(CITIES):
    problems = []
    if missing:
        problems.append(f"missing cities {missing}")
    if repeated:
        problems.append(f"repeated cities {repeated}")
    if unknown:
        problems.append(f"unknown cities {unknown}")
    print(json.dumps({"score": 10000.0, "feedback": "not a tour of cities 0-9 each once: " + "; ".join(problems)}))
else:
    legs = [(a, b, math.dist(CITIES[a], CITIES[b])) for a, b in zip(tour, tour[1:] + tour[:1])]
    longest = sorted(legs, key=lambda leg: -leg[2])[:2]
    hint = ", ".join(f"{a}->{b} ({d:.1f})" for a, b, d in longest)
    print(json.dumps({"score": round(length(tour), 3), "feedback": f"tour length {length(tour):.3f}; longest legs: {hint}"}))
