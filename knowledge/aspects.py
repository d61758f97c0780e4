"""Which part of a guide a question asks about (材料, 流程, 时限 …), from the words it uses.

Pure functions over a normalised query. The aspect names are the keys of :data:`knowledge.models.SECTIONS`.
Each cue carries a weight: specific phrases (带什么材料, 多长时间, 网上办) outweigh the generic question shapes
(能…吗 usually asks about conditions, 怎么… about the process), so "材料可以网上交吗" is about the online service.
"""

from __future__ import annotations

import re

_CUES: tuple[tuple[str, str, float], ...] = (
    # materials
    (
        "materials",
        r"材料|带什么|带啥|带哪些|要带|需要带|准备什么|准备哪些|准备啥|要什么东西|什么证件|哪些证件|资料|复印件|原件|照片|证明材料|要交什么|交什么|提交什么|清单|要哪些东西",
        3,
    ),
    # fee
    (
        "fee",
        r"多少钱|收费|费用|要钱|花钱|收钱|工本费|免费|花多少|几块钱|贵不贵|登记费|掏钱|手续费|要交钱吗|交钱吗|花费|价格",
        3,
    ),
    # time
    (
        "time",
        r"多久|多长时间|几天|几个工作日|时限|什么时候|多快|当天|当场|马上|要等|等多久|办结|期限|截止|几号之前|哪天|几个月|多少天|时间内|之内",
        3,
    ),
    # location
    (
        "location",
        r"在哪|哪里办|哪儿办|去哪|到哪|地址|地点|窗口|大厅|几楼|几点|上班时间|办公时间|营业时间|周末|周六|节假日|电话|什么地方|网点|哪个部门|街道还是|社区还是|还是去",
        3,
    ),
    # online
    (
        "online",
        r"网上|线上|手机|app|小程序|网办|在家|不用跑|不跑|上网|公众号|掌上|网站|电子版|邮寄|微信|支付宝|自助机|远程|视频",
        3.5,
    ),
    # conditions
    (
        "conditions",
        r"条件|资格|符合|够不够|要求|限制|满足|谁可以|谁能|哪些人|什么人|哪些企业|不能适用|适用|外地人|外地户口|满多少|多大|多少岁|年龄|够条件|必须|一定要|本人到场",
        2.5,
    ),
    ("conditions", r"能不能|可不可以|可以.{0,12}吗|能.{0,12}吗|还能|允许|行不行|可否|能否", 1.5),
    # process
    (
        "process",
        r"流程|步骤|环节|哪几步|几步|怎么办理|如何办理|怎么弄|怎么申请|如何申请|程序|手续|办理方式|怎么操作|先去|第一步|怎么走|包括哪些|怎么改|怎么补|怎么挂失|怎么修改|怎么更正|怎么处理|怎么交|怎么提|怎么报|怎么领",
        2.5,
    ),
    ("process", r"怎么办|怎么|如何", 1.0),
    # basis
    ("basis", r"依据|法律|条例|文件|哪条|根据什么|政策规定|规定是什么|哪个规定", 4),
)
_COMPILED = tuple((aspect, re.compile(pattern, re.IGNORECASE), weight) for aspect, pattern, weight in _CUES)


def aspect_scores(text: str) -> dict[str, float]:
    """The weight of the strongest cue of each aspect found in ``text``."""
    scores: dict[str, float] = {}
    for aspect, pattern, weight in _COMPILED:
        if pattern.search(text) and weight > scores.get(aspect, 0.0):
            scores[aspect] = weight
    return scores


def detect_aspects(text: str) -> list[str]:
    """All aspects ``text`` asks about, strongest first; empty when it names none (an overview question)."""
    scores = aspect_scores(text)
    return sorted(scores, key=lambda aspect: -scores[aspect])


def main_aspect(text: str) -> str:
    """The single aspect to answer first; ``general`` when the question names none."""
    found = detect_aspects(text)
    return found[0] if found else "general"


def without_cues(text: str) -> str:
    """``text`` with every aspect cue phrase removed (what is left names the topic, if anything)."""
    for _, pattern, _ in _COMPILED:
        text = pattern.sub("", text)
    return text


def main_aspect_span(text: str) -> tuple[str, int, int] | None:
    """The main aspect with the position of the cue phrase that signals it, or None for an overview question."""
    best: tuple[float, str, int, int] | None = None
    for aspect, pattern, weight in _COMPILED:
        match = pattern.search(text)
        if match and (best is None or weight > best[0]):
            best = (weight, aspect, match.start(), match.end())
    return (best[1], best[2], best[3]) if best else None
