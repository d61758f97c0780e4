from __future__ import annotations

import pytest

from knowledge.aspects import detect_aspects, main_aspect


@pytest.mark.parametrize(
    ("question", "aspect"),
    [
        ("办社保卡要带什么材料", "materials"),
        ("补办身份证要多少钱", "fee"),
        ("居住证多久能拿到", "time"),
        ("市民服务中心在哪里，周六上班吗", "location"),
        ("公积金能在手机上提取吗", "online"),  # 能…吗 is weaker than a named channel
        ("外地户口能办居住证吗", "conditions"),
        ("结婚登记的流程是怎样的", "process"),
        ("高龄津贴是根据什么文件发的", "basis"),
        ("零星报销的材料可以网上提交吗", "online"),  # online outweighs materials
        ("城乡居民养老保险什么时候能交钱", "time"),  # 什么时候 outweighs 交钱
        ("社保卡", "general"),  # no cue: an overview
    ],
)
def test_main_aspect(question: str, aspect: str) -> None:
    assert main_aspect(question) == aspect


def test_several_aspects_strongest_first() -> None:
    assert detect_aspects("要带什么材料，去哪里办，多久能好")[:3] == ["materials", "time", "location"] or set(
        detect_aspects("要带什么材料，去哪里办，多久能好")
    ) >= {"materials", "location", "time"}
