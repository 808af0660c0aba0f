"""Golden fixtures for ts/minigrid from Farama Minigrid (PyPI minigrid==3.2.0, numpy 2.x): a dev-only generator.

Per environment: the layout after reset(seed) for several seeds (full grid encoding, agent, mission), and for a few
seeds a biased random walk with every step's 7x7 observation, agent pose, reward, terminated/truncated and carried
object. Also numpy's own draws (integers, shuffle, choice) for the generator port.

    python3 -m venv /work/venvs/minigrid && /work/venvs/minigrid/bin/pip install minigrid==3.2.0
    /work/venvs/minigrid/bin/python scripts/make_minigrid_fixture.py tests/fixtures/minigrid

Grids are text: rows joined by '/', three base-16 digits per cell (object, colour, state), row y, column x.
"""

import copy
import json
import sys
from collections import deque
from pathlib import Path

import gymnasium as gym
import minigrid  # noqa: F401  (registers the MiniGrid-* ids)
import numpy as np

ENV_IDS = [
    "MiniGrid-Empty-5x5-v0",
    "MiniGrid-Empty-8x8-v0",
    "MiniGrid-Empty-Random-5x5-v0",
    "MiniGrid-FourRooms-v0",
    "MiniGrid-DoorKey-5x5-v0",
    "MiniGrid-DoorKey-8x8-v0",
    "MiniGrid-LavaGapS5-v0",
    "MiniGrid-LavaGapS7-v0",
    "MiniGrid-SimpleCrossingS9N1-v0",
    "MiniGrid-LavaCrossingS9N1-v0",
    "MiniGrid-MultiRoom-N2-S4-v0",
    "MiniGrid-Unlock-v0",
    "MiniGrid-KeyCorridorS3R1-v0",
    "MiniGrid-UnlockPickup-v0",
]
WALK_SEEDS = [0, 1]
# Environments small enough for a breadth-first search in Python; their seed-2 walk follows a shortest path to success.
EXPERT_ENV_IDS = [
    "MiniGrid-Empty-5x5-v0",
    "MiniGrid-Empty-Random-5x5-v0",
    "MiniGrid-FourRooms-v0",
    "MiniGrid-DoorKey-5x5-v0",
    "MiniGrid-LavaGapS5-v0",
    "MiniGrid-SimpleCrossingS9N1-v0",
    "MiniGrid-LavaCrossingS9N1-v0",
    "MiniGrid-MultiRoom-N2-S4-v0",
    "MiniGrid-Unlock-v0",
    "MiniGrid-KeyCorridorS3R1-v0",
]
EXPERT_SEED = 2
LAYOUT_SEEDS = list(range(3, 13)) + [2**32 + 5]
WALK_STEPS = 25
LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE, DONE = range(7)


def grid_text(image):
    """An (x, y, 3) encoding as rows of hex triples."""
    width, height, _ = image.shape
    rows = []
    for y in range(height):
        rows.append("".join("".join(format(int(v), "x") for v in image[x, y]) for x in range(width)))
    return "/".join(rows)


def carrying_text(env):
    return "" if env.carrying is None else "".join(format(v, "x") for v in env.carrying.encode())


def layout(env, seed, with_obs=False):
    obs, _ = env.reset(seed=seed)
    base = env.unwrapped
    record = {
        "seed": seed,
        "grid": grid_text(base.grid.encode()),
        "agent": [int(base.agent_pos[0]), int(base.agent_pos[1])],
        "dir": int(base.agent_dir),
        "mission": base.mission,
    }
    if with_obs:
        record["obs"] = grid_text(obs["image"])
    return record


def biased_action(base, rng):
    """Random actions that often pick up what is in front, open doors and sometimes drop, to reach every rule."""
    front = base.grid.get(*base.front_pos)
    roll = rng.random()
    if front is not None and front.can_pickup() and base.carrying is None and roll < 0.6:
        return PICKUP
    if front is not None and front.type in ("door", "box") and roll < 0.5:
        return TOGGLE
    if base.carrying is not None and front is None and roll < 0.15:
        return DROP
    return int(rng.choice([LEFT, RIGHT, FORWARD, FORWARD, FORWARD, FORWARD, PICKUP, DROP, TOGGLE, DONE]))


def state_key(base):
    return base.hash(), carrying_text(base)


def shortest_actions(base):
    """Breadth-first search over copies of the environment to the first rewarded step (lava ends a branch)."""
    start = copy.deepcopy(base)
    seen = {state_key(start)}
    frontier = deque([(start, [])])
    while frontier:
        env, actions = frontier.popleft()
        for action in range(7):
            child = copy.deepcopy(env)
            _, reward, terminated, _, _ = child.step(action)
            if terminated and reward > 0:
                return actions + [action]
            key = state_key(child)
            if terminated or key in seen:
                continue
            seen.add(key)
            frontier.append((child, actions + [action]))
    raise RuntimeError("no path to success")


def walk(env, seed, expert=False):
    record = layout(env, seed, with_obs=True)
    base = env.unwrapped
    rng = np.random.default_rng(1000 + seed)
    planned = shortest_actions(base) if expert else None
    if planned is not None:
        record["optimalSteps"] = len(planned)
    steps = []
    for index in range(len(planned) if planned else WALK_STEPS):
        action = planned[index] if planned else biased_action(base, rng)
        obs, reward, terminated, truncated, _ = env.step(action)
        steps.append(
            {
                "action": action,
                "obs": grid_text(obs["image"]),
                "agent": [int(base.agent_pos[0]), int(base.agent_pos[1])],
                "dir": int(base.agent_dir),
                "reward": round(float(reward), 12),
                "terminated": bool(terminated),
                "truncated": bool(truncated),
                "carrying": carrying_text(base),
            }
        )
        if terminated or truncated:
            break
    record["steps"] = steps
    return record


def numpy_draws():
    """The generator's own outputs for seeds of one and two 32-bit words."""
    draws = []
    for seed in [0, 1, 42, 2**32 + 5, 12345678901234]:
        rng = np.random.default_rng(seed)
        integers = [[low, high, int(rng.integers(low, high))] for low, high in
                    [(0, 5), (2, 3), (0, 4), (1, 17), (-3, 3), (0, 2**31 + 7), (0, 2**32), (5, 1000), (0, 6), (0, 3)]]
        items = list(range(10))
        rng.shuffle(items)
        choice = int(rng.choice(range(3, 9)))
        uint64 = str(int(rng.bit_generator.random_raw()))
        draws.append({"seed": seed, "integers": integers, "shuffled": items, "choice": choice, "raw": uint64})
    return draws


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for env_id in ENV_IDS:
        env = gym.make(env_id)
        base = env.unwrapped
        record = {
            "env": env_id,
            "maxSteps": base.max_steps,
            "seeThroughWalls": base.see_through_walls,
            "walks": [walk(env, seed) for seed in WALK_SEEDS]
            + ([walk(env, EXPERT_SEED, expert=True)] if env_id in EXPERT_ENV_IDS else []),
            "layouts": [layout(env, seed) for seed in LAYOUT_SEEDS],
        }
        (out / f"{env_id}.json").write_text(json.dumps(record, separators=(",", ":")) + "\n")
    (out / "numpy-draws.json").write_text(json.dumps(numpy_draws(), indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/minigrid")
