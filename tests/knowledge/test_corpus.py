"""The bundled corpus is complete and consistent; broken corpora are reported by file and field, never half-loaded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from knowledge.corpus import BUNDLED_KB, Corpus, CorpusError, load_corpus
from knowledge.models import Location

# The service catalog the bundled knowledge base must cover, with the exact 事项名称.
CATALOG = {
    "P01": "社会保障卡申领", "P02": "社会保障卡补领换领", "P03": "城乡居民基本养老保险参保登记",
    "P04": "基本养老保险关系转移接续", "P05": "职工基本养老保险退休待遇申领", "P06": "灵活就业人员参保登记",
    "P07": "失业保险金申领", "P08": "城乡居民基本医疗保险参保登记", "P09": "异地就医备案", "P10": "医疗费用零星报销",
    "P11": "住房公积金租房提取", "P12": "住房公积金购房提取", "P13": "住房公积金个人住房贷款",
    "P14": "居民身份证换领补领", "P15": "户口迁移", "P16": "出生登记", "P17": "居住证申领", "P18": "结婚登记",
    "P19": "婚姻登记记录证明", "P20": "不动产转移登记", "P21": "义务教育阶段入学登记", "P22": "出生医学证明办理",
    "P23": "预防接种证办理", "P24": "高龄津贴申领", "P25": "老年人优待证办理", "P26": "最低生活保障申请",
    "P27": "残疾人证申领", "P28": "机动车检验合格标志核发", "P29": "交通违法处理", "P30": "医疗救助申请",
    "E01": "企业设立登记", "E02": "个体工商户设立登记", "E03": "企业简易注销登记", "E04": "企业注销登记",
    "E05": "食品经营许可", "E06": "企业年度报告公示", "E07": "公众聚集场所投入使用营业前消防安全检查",
    "E08": "建筑工程施工许可", "E09": "高新技术企业认定", "E10": "印章刻制备案",
    "B01": "新生儿出生一件事", "B02": "企业开办一件事", "B03": "二手房交易一件事", "B04": "退休一件事",
}  # fmt: skip

BUNDLE_MEMBERS = {"B01": {"P22", "P23", "P16", "P08", "P01"}, "B02": {"E01", "E10"}, "B03": {"P20"}, "B04": {"P05"}}


def test_every_catalog_entry_is_there_with_its_exact_name(corpus: Corpus) -> None:
    found = {doc.code: doc.name for doc in corpus.guides}
    assert found == CATALOG


def test_bundles_link_their_items(corpus: Corpus) -> None:
    for bundle in corpus.bundles:
        linked = {m.code for m in bundle.members if m.code}
        assert BUNDLE_MEMBERS[bundle.code] <= linked, bundle.code


def test_at_least_ten_policies_with_articles_and_interpretation(corpus: Corpus) -> None:
    assert len(corpus.policies) >= 10
    for policy in corpus.policies:
        assert len(policy.articles) >= 8 and len(policy.interpretation) >= 6, policy.code
        assert re.fullmatch(r"示\w*〔20\d\d〕\d+号", policy.doc_number), policy.doc_number


def test_every_item_has_the_standard_fields_filled(corpus: Corpus) -> None:
    for item in corpus.items:
        assert len(item.faqs) >= 8, item.code
        assert item.aliases, item.code
        assert item.conditions and item.materials and item.process and item.locations and item.basis, item.code


def test_every_file_says_it_is_sample_data() -> None:
    for path in sorted(BUNDLED_KB.glob("*/*.yml")):
        assert "示例数据" in path.read_text(encoding="utf-8").splitlines()[0], path


def test_aliases_point_at_one_document_only(corpus: Corpus) -> None:
    owner: dict[str, str] = {}
    for doc in corpus.guides:
        for surface in (doc.name, *doc.aliases):
            assert owner.setdefault(surface, doc.code) == doc.code, f"{surface} used by {owner[surface]} and {doc.code}"


def test_centre_facts_are_quoted_exactly(corpus: Corpus) -> None:
    centres = {c["name"]: c for c in corpus.city["centers"]}
    checked = 0
    for doc in corpus.guides:
        for location in doc.locations:
            centre = next((c for name, c in centres.items() if location.name.startswith(name)), None)
            if centre is None:
                continue
            checked += 1
            assert location.address.startswith(centre["address"]), (doc.code, location.name, location.address)
            assert location.hours == centre["hours"], (doc.code, location.name)
    assert checked >= 40


def test_local_policies_are_cited_with_their_document_numbers(corpus: Corpus) -> None:
    numbers = {p.title: p.doc_number for p in corpus.policies}
    cited = 0
    for doc in corpus.guides:
        for basis in doc.basis:
            for title, number in numbers.items():
                if f"《{title}》" in basis and "〔" in basis:
                    cited += 1
                    assert number in basis, (doc.code, basis)
    assert cited >= 8


@pytest.mark.parametrize(
    ("code", "must_mention"),
    [
        ("P24", ["100元", "300元", "600元", "80周岁"]),  # 高龄津贴 amounts by age band
        ("P11", ["1500元", "3000元"]),  # 租房提取 monthly limits
        ("P13", ["60万元", "80万元"]),  # 公积金贷款 ceilings
        ("P26", ["900元"]),  # 低保 standard
        ("P14", ["20元", "40元"]),  # 身份证 fees
    ],
)
def test_city_figures_agree_between_guides(corpus: Corpus, code: str, must_mention: list[str]) -> None:
    text = yaml.safe_dump(corpus.item(code).model_dump(mode="json"), allow_unicode=True)
    for figure in must_mention:
        assert figure in text, (code, figure)


# --- broken corpora -------------------------------------------------------------------------------------------


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def p01_with(change: dict[str, object]) -> str:
    data = yaml.safe_load((BUNDLED_KB / "items" / "P01.yml").read_text(encoding="utf-8"))
    data.update(change)
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # YAML that does not parse
        ({"items/P01.yml": "name: [unclosed"}, "cannot be read as UTF-8 YAML"),
        # a file that is a list, not a mapping
        ({"items/P01.yml": "- a\n- b\n"}, "must be a YAML mapping"),
        # a misspelt key is rejected, not ignored
        ({"items/P01.yml": p01_with({"materails": []})}, "materails: Extra inputs are not permitted"),
        # too few FAQs
        ({"items/P01.yml": p01_with({"faqs": [{"q": "问题一个", "a": "回答一个"}]})}, "faqs"),
        # a material conditional on a situation that does not exist
        (
            {"items/P01.yml": p01_with({"situations": []})},
            "unknown situation",
        ),
        # two files with the same code
        ({"items/P01.yml": p01_with({}), "items/P01-copy.yml": p01_with({})}, "P01 is also used by"),
        # not UTF-8
        ({"items/P01.yml": "名称".encode("gbk").decode("latin-1")}, "items/P01.yml"),
    ],
)
def test_broken_corpus_is_reported_by_file_and_field(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    for relative, text in files.items():
        write(tmp_path, relative, text)
    with pytest.raises(CorpusError) as raised:
        load_corpus(tmp_path)
    assert expected in str(raised.value)
    assert all(isinstance(p.path, Path) for p in raised.value.problems)


def test_material_problem_names_the_material(tmp_path: Path) -> None:
    data = yaml.safe_load((BUNDLED_KB / "items" / "P01.yml").read_text(encoding="utf-8"))
    data["materials"][2]["copies"] = -1
    write(tmp_path, "items/P01.yml", yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(CorpusError, match=r"materials\[2\]\(户口簿\)\.copies"):
        load_corpus(tmp_path)


def test_one_bad_file_among_good_ones_loads_nothing(tmp_path: Path) -> None:
    write(tmp_path, "items/P01.yml", p01_with({}))
    write(tmp_path, "items/P02.yml", p01_with({"code": "P02", "name": "另一个", "fee": "免费"}))
    with pytest.raises(CorpusError) as raised:
        load_corpus(tmp_path)
    assert len(raised.value.problems) == 1


def test_missing_or_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")
    with pytest.raises(CorpusError, match="contains no items"):
        load_corpus(tmp_path)


def test_digest_changes_with_content(kb_copy: Path) -> None:
    before = load_corpus(kb_copy).digest
    path = kb_copy / "items" / "P01.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("首次申领不收费", "首次申领免费"), encoding="utf-8")
    assert load_corpus(kb_copy).digest != before


def test_location_model_keeps_phone_optional() -> None:
    assert Location(name="窗口", address="示例市人民大道100号", hours="工作日").phone == ""


def test_committed_jieba_dictionary_matches_the_bundled_corpus(corpus: Corpus) -> None:
    from knowledge.dictionary import DICTIONARY_FILE, NAMES_FILE, item_names, jieba_dictionary

    assert DICTIONARY_FILE.read_text(encoding="utf-8") == jieba_dictionary(corpus), "run `zhiban kb build`"
    assert NAMES_FILE.read_text(encoding="utf-8") == item_names(corpus), "run `zhiban kb build`"
