"""The benchmark report's own arithmetic and labels (bench/bench.py, bench/results.py):
the script hashes it prints are the ones Redis names the embedded scripts by, the
histogram quantiles are right, and the issue table's verdicts, ratio directions and
round exclusions follow the figures. Runs no benchmark: a second at most."""
import hashlib
import os
import sys
import tempfile
import unittest

import dtstest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import bench  # noqa: E402
import results  # noqa: E402


INF = float("inf")


def window(redis_us, worker_us, load="0.50 0.40 0.30"):
    return {"redis_cpu_us": redis_us, "worker_cpu_us": worker_us, "other_cpu_us": 5.0, "background_cores": 0.1,
            "load_begin": load, "load_end": load, "commands": {"evalsha": {"calls_per_occ": 2.0, "usec_per_occ": 9.0}}}


def figures(dts_drain, bull_drain, late_round=None, batch=None):
    rounds = []
    for i, (d, b) in enumerate(zip(dts_drain, bull_drain)):
        rounds.append({"order": ["dts", "bullmq"] if i % 2 == 0 else ["bullmq", "dts"],
                       "dts_burst": {"n": 20000, "drain_s": d, "window": window(20.0, 12.0),
                                     "seed_late_ms": 500 if i == late_round else -100},
                       "bullmq_burst": {"n": 20000, "drain_s": b, "window": window(60.0, 50.0), "seed_late_ms": -10},
                       "dts_low": {"late_hist": {"buckets": [[0.01, 98], [0.025, 100], [INF, 100]]},
                                   "late_script": {"p99": 15}, "window": window(1, 1)},
                       "bullmq_low": {"late": {"p99": 40}, "window": window(1, 1)}})
    big = {"n": 500000, "drain_s": 10.0, "dispatch_s": 4.0, "window": window(22.0, 14.0), "seed_late_ms": -1}
    high = {"n": 600000, "drain_s": 60.1, "window": window(1, 1), "seed_late_ms": -1,
            "late_hist": {"buckets": [[0.1, 50], [0.25, 99.5], [INF, 100]], "share_le_250ms": 0.995},
            "late_script": {"p50": 2, "p99": 200, "max": 2500, "early": 0}}
    return {"knobs": {"rounds": len(rounds), "burst": 20000, "big": 500000, "low_rate": 1000, "low_secs": 15,
                      "high_rate": 10000, "high_secs": 60, "mem_n": 100000, "wrk_secs": 10, "procs": 2, "conc": 32},
            "quick": False, "suite_s": 700, "rounds": rounds,
            "single": {"dts_big": big, "dts_high": high, "bullmq_big": dict(big, drain_s=40.0),
                       "bullmq_high": dict(high, late={"p99": 900, "max": 1000})},
            "memory": {"at-shell": 390.0, "at-noop": 310.0, "bullmq": 500.0},
            "api": {"post": {"rps": 12500.0, "p99": "9ms", "non2xx": 0}, "batch_probe": "404 {}", "batch": batch},
            "label": {"label": "abc1234-dirty", "subject": "s", "binary": "dts 0.1.0 (commit abc1234)",
                      "scripts": {"start": "f" * 40}, "scripts_from": "binary", "scripts_differ": []}}


def row(text, start):
    return next(line for line in text.splitlines() if line.startswith("| " + start))


class ScriptHashTest(unittest.TestCase):
    def test_the_hashes_printed_are_those_redis_names_the_embedded_scripts_by(self):
        build = os.path.dirname(os.environ["DTS_BIN"])
        texts = bench.embedded_scripts(build)
        self.assertIn("dispatch", texts)
        self.assertIn("complete", texts)
        shas = bench.scripts_in_binary(build)
        self.assertEqual(shas, bench.scripts_in_tree(), "the tree's scripts hash as the build embedded them")
        tmp = tempfile.mkdtemp(prefix="dts-test-")
        redis = dtstest.Redis(tmp)
        self.addCleanup(redis.stop)
        for name in ("dispatch", "start", "complete", "create"):
            self.assertEqual(redis.cmd("SCRIPT", "LOAD", texts[name].decode()), shas[name], name)
        self.assertEqual(shas["dispatch"], hashlib.sha1(texts["dispatch"]).hexdigest())


class HistogramTest(unittest.TestCase):
    def test_quantiles_interpolate_within_buckets_and_the_share_is_exact(self):
        b = [(0.01, 50.0), (0.025, 99.0), (0.25, 100.0), (float("inf"), 100.0)]
        self.assertAlmostEqual(bench.hist_quantile(b, 0.5), 10.0)
        self.assertAlmostEqual(bench.hist_quantile(b, 0.99), 25.0)
        self.assertAlmostEqual(bench.hist_quantile(b, 0.25), 5.0)
        self.assertEqual(bench.hist_share_le(b, 0.025), 0.99)
        self.assertIsNone(bench.hist_quantile([(0.01, 0.0), (float("inf"), 0.0)], 0.99))

    def test_metrics_text_is_summed_over_series_and_processes(self):
        t1 = 'dts_runs_total{outcome="succeeded"} 3\ndts_runs_total{outcome="failed"} 1\n' \
             'dts_run_lateness_seconds_bucket{le="0.01"} 2\ndts_run_lateness_seconds_bucket{le="+Inf"} 4\n'
        t2 = 'dts_run_lateness_seconds_bucket{le="0.01"} 1\ndts_run_lateness_seconds_bucket{le="+Inf"} 1\n'
        self.assertEqual(bench.metric_sum(t1, "dts_runs_total"), 4)
        self.assertEqual(bench.histogram([t1, t2], "dts_run_lateness_seconds"), [(0.01, 3.0), (float("inf"), 5.0)])


class ReportTest(unittest.TestCase):
    def test_rows_say_met_when_the_figures_meet_the_goals(self):
        text = results.render(figures([2.0, 2.4, 2.2], [8.0, 8.0, 8.0]))
        self.assertIn("**yes**", row(text, "20k burst, drain time"))
        self.assertIn("0.28", row(text, "20k burst, drain time"))  # the median of 0.25, 0.30, 0.275
        self.assertIn("50000/s", row(text, "500k burst, end to end"))
        self.assertIn("**yes**", row(text, "500k burst, end to end"))
        self.assertIn("125000/s", row(text, "500k burst, all dispatched"))
        self.assertIn("**yes**", row(text, "Redis CPU per no-op"))
        self.assertIn("**yes**", row(text, "executor CPU per no-op"))
        self.assertIn("17.5 ms", row(text, "1k/s due"))  # 10 + 15 * (99 - 98) / (100 - 98)
        self.assertIn("**yes**", row(text, "1k/s due"))
        self.assertIn("248 ms / 2500 ms", row(text, "10k/s due for 60 s"))
        self.assertIn("**yes**", row(text, "POST /api/v1/tasks"))
        self.assertIn("abc1234-dirty", text)

    def test_rows_say_no_when_a_goal_is_missed_and_batch_absent_is_not_available(self):
        text = results.render(figures([4.0, 4.0, 4.0], [8.0, 8.0, 8.0]))
        self.assertIn("| no |", row(text, "20k burst, drain time"))
        # max 2.5 s misses "< 2 s" although the p99 is within 250 ms
        self.assertIn("| no |", row(text, "10k/s due for 60 s"))
        self.assertIn("| no |", row(text, "Redis memory per pending"))  # noop 310 B > 300 B
        self.assertIn("not available", row(text, "batch create"))

    def test_a_p99_past_the_top_bucket_is_the_per_run_figure_marked(self):
        F = figures([2.0], [8.0])
        F["single"]["dts_high"]["late_hist"]["buckets"] = [[60, 90], [INF, 100]]
        F["single"]["dts_high"]["late_script"]["p99"] = 91000
        self.assertIn("91000 † ms", row(results.render(F), "10k/s due for 60 s"))

    def test_a_round_whose_adding_ran_late_is_left_out_of_the_medians(self):
        text = results.render(figures([2.0, 8.0, 2.0], [8.0, 8.0, 8.0], late_round=1))
        self.assertIn("0.25", row(text, "20k burst, drain time"))
        self.assertIn("2 of 3 rounds", row(text, "20k burst, drain time"))
        self.assertIn("not in the medians", row(text, "2 (adding"))

    def test_every_ratio_column_says_its_direction(self):
        text = results.render(figures([2.0], [8.0], batch={"tasks_per_s": 60000.0, "non2xx": 0}))
        header = row(text, "round |")
        self.assertIn("drain-time ratio (lower is better)", header)
        self.assertIn("rate ratio (higher is better)", header)
        for line in text.splitlines():
            if "ratio" in line and line.startswith("| ") and "---" not in line:
                self.assertTrue("lower is better" in line or "higher is better" in line or "ratio dts/BullMQ" in line,
                                line)
        self.assertIn("**yes**", row(text, "batch create"))


if __name__ == "__main__":
    unittest.main()
