"""The fence reader that start.lua and complete.lua share (src/scripts/lib/
fences.lua), run on a real Redis: one XPENDING over a batch's id range answers
each entry's delivery count for this consumer, and when that reply is full (the
range holds more of the consumer's pending entries than were asked for) an
entry not in it is asked for alone, so a missing answer is never taken for
"not ours"."""
import os
import unittest

from dtstest import DtsCase

LIB = os.path.join(os.path.dirname(__file__), "..", "..", "src", "scripts", "lib", "fences.lua")
# What the scripts do with it: the answer per id, -1 for "not pending for us".
BODY = """
local owned = fences(KEYS[1], 'g', 'c', ARGV[1], ARGV[2], tonumber(ARGV[3]))
local out = {}
for i = 4, #ARGV do out[#out + 1] = owned(ARGV[i]) or -1 end
return out
"""


class FencesTest(DtsCase):
    def setUp(self):
        super().setUp()
        with open(LIB) as f:
            self.script = f.read() + BODY
        r = self.redis
        r.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        self.ids = [r.cmd("XADD", "s", "*", "n", str(i)) for i in range(300)]
        r.cmd("XREADGROUP", "GROUP", "g", "c", "COUNT", "290", "STREAMS", "s", ">")
        r.cmd("XREADGROUP", "GROUP", "g", "d", "COUNT", "10", "STREAMS", "s", ">")  # the last ten: another's
        for _ in range(2):  # delivered three times, as a claimed entry is
            r.cmd("XCLAIM", "s", "g", "c", "0", self.ids[250])
        r.cmd("XACK", "s", "g", self.ids[5])  # completed: no longer pending

    def answers(self, count, asked):
        return self.redis.cmd("EVAL", self.script, "1", "s", self.ids[0], self.ids[-1], str(count), *asked)

    def test_every_answer_is_right_whether_or_not_the_reply_was_full(self):
        asked = [self.ids[i] for i in (0, 5, 120, 250, 289, 290, 299)]
        want = [1, -1, 1, 3, 1, -1, -1]
        for count in (4, 1000):  # 4: full, the fallback answers; 1000: one XPENDING answers all
            self.assertEqual(self.answers(count, asked), want, f"count {count}")


if __name__ == "__main__":
    unittest.main()
