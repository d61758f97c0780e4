"""Which part of a guide a question asks about (材料, 流程, 时限 …), from the words it uses.

Pure functions over a normalised query. The aspect names are the keys of :data:`knowledge.models.SECTIONS`.
"""

from __future__ import annotations

import re

# Each aspect with the cue phrases that signal it. Checked in this order; a question may name several aspects.
_CUES: tuple[tuple[str, str], ...] = (
    (
        "materials",
        r"材料|带什么|带啥|带哪些|要带|需要带|准备什么|准备哪些|需要什么|要什么东西|证件|资料|复印件|原件|照片|证明材料|要交什么|提交什么|清单",
    ),
    ("fee", r"多少钱|收费|费用|要钱|花钱|交钱|收钱|工本费|免费|花多少|几块钱|贵不贵|登记费|掏钱"),
    (
        "time",
        r"多久|多长时间|几天|几个工作日|时限|什么时候能|多快|当天|当场|马上|要等|等多久|办结|期限|截止|几号之前|哪天",
    ),
    (
        "location",
        r"在哪|哪里办|哪儿办|去哪|地址|地点|窗口|大厅|几点|上班时间|办公时间|周末|周六|节假日|电话|营业|什么地方|网点|哪个部门",
    ),
    ("online", r"网上|线上|手机|App|APP|app|小程序|网办|在家|不用跑|不跑|上网|公众号|掌上|网站|电子|邮寄"),
    (
        "conditions",
        r"条件|能不能|可不可以|可以办吗|能办吗|能否|符合|资格|有没有资格|够不够|要求|限制|满足|谁可以|哪些人|外地人|外地户口|够条件",
    ),
    (
        "process",
        r"流程|步骤|怎么办理|如何办理|怎么弄|怎么申请|如何申请|程序|手续|办理方式|怎么操作|先去|第一步|怎么走|怎么办",
    ),
    ("basis", r"依据|政策|文件|规定|法律|条例|办法|哪条"),
)
_COMPILED = tuple((aspect, re.compile(pattern)) for aspect, pattern in _CUES)


def detect_aspects(text: str) -> list[str]:
    """All aspects ``text`` asks about, most specific first; empty when it names none (an overview question)."""
    return [aspect for aspect, pattern in _COMPILED if pattern.search(text)]


def main_aspect(text: str) -> str:
    """The single aspect to answer first; ``general`` when the question names none."""
    found = detect_aspects(text)
    return found[0] if found else "general"
