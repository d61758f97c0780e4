"""A generated Mandarin test set for speech recognition: questions citizens ask, spoken by espeak-ng, phone-band.

Nothing is downloaded or committed: :func:`generate` synthesises each question with Debian's espeak-ng
(``-v cmn-latn-pinyin``; ``-v cmn`` reads tone digits in English), resamples it to 8 kHz, passes it through G.711 μ-law
and back — what a phone call delivers — and keeps the expected text next to the audio. Used by tests/voice/ and by
``make bench-asr`` (benchmarks/asr_cer.py).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from voice.audio import PHONE_RATE, Pcm, decode, from_mulaw, resample, to_mulaw

#: Questions of the kind people ask a 12345 hotline, naming items of the bundled knowledge base (社保卡, 公积金,
#: 居住证, 个体工商户, 高龄津贴 …) the way people say them. Written for this project.
QUESTIONS: tuple[str, ...] = (
    "我想补办社保卡需要带什么材料",
    "社保卡丢了怎么挂失",
    "第一次办社保卡去哪里办",
    "公积金租房提取怎么办理",
    "买房可以提取公积金吗",
    "公积金贷款最多能贷多少",
    "外地人怎么办居住证",
    "居住证多久能拿到",
    "个体工商户设立登记要多久",
    "开个体户需要什么手续",
    "高龄津贴每个月发多少钱",
    "八十岁老人怎么申请高龄津贴",
    "老年人优待证在哪里办",
    "身份证丢了怎么补办",
    "身份证到期了去哪里换",
    "新生儿怎么上户口",
    "出生医学证明丢了能补吗",
    "结婚登记需要带什么证件",
    "怎么开单身证明",
    "二手房过户要交哪些税",
    "孩子上小学怎么报名",
    "疫苗本丢了怎么补办",
    "失业金怎么领取",
    "灵活就业人员怎么交社保",
    "退休手续怎么办理",
    "养老保险关系怎么转移",
    "异地就医备案怎么办",
    "住院费用怎么报销",
    "居民医保每年交多少钱",
    "低保怎么申请",
    "残疾人证怎么办理",
    "车辆年检需要带什么",
    "交通违章罚款在哪里交",
    "注册公司需要多少钱",
    "营业执照办下来要几天",
    "刻公章要去哪里备案",
    "企业年报什么时候报",
    "开饭店要办食品经营许可证吗",
    "户口迁移需要什么材料",
    "我要找人工客服",
)

#: espeak-ng's Mandarin voice; ``cmn`` alone is broken (it reads pinyin tone digits in English).
VOICE = "cmn-latn-pinyin"


@dataclass(frozen=True)
class Utterance:
    """One spoken question: the text it should be recognised as and its phone-band audio."""

    text: str
    pcm: Pcm  # 8 kHz s16 after a μ-law round trip


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(text: str, *, speed: int = 150) -> Pcm:
    """``text`` spoken by espeak-ng at its own rate (22.05 kHz), as PCM.

    Raises:
        RuntimeError: espeak-ng is missing or failed (with its stderr).
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (`make system-deps`)")
    done = subprocess.run([exe, "-v", VOICE, "-s", str(speed), "--stdout", text], capture_output=True, timeout=60)
    if done.returncode or not done.stdout:
        raise RuntimeError(f"espeak-ng failed for {text!r}: {done.stderr.decode(errors='replace')[-300:]}")
    return decode(done.stdout)


def phone_band(pcm: Pcm) -> Pcm:
    """What a phone call delivers: 8 kHz, G.711 μ-law encoded and decoded again."""
    return from_mulaw(to_mulaw(resample(pcm, PHONE_RATE)), PHONE_RATE)


def utterance(text: str, *, speed: int = 150) -> Utterance:
    return Utterance(text, phone_band(speak(text, speed=speed)))


def generate(questions: Iterable[str] = QUESTIONS, *, speed: int = 150) -> list[Utterance]:
    """The test set: every question spoken and passed through the phone band."""
    return [utterance(q, speed=speed) for q in questions]
