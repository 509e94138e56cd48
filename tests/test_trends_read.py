"""The Google Trends readers: Explore exports, Trending now exports and official data files of any layout, from
small inline files (CR-only line endings, trailing commas, title lines, ``<1``, Breakout, localised headers)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from sitegen.ingest.regions import region_in_text, region_matches, resolve
from sitegen.ingest.trends import read_trends
from sitegen.ingest.trendvalues import (BREAKOUT, date_kind, file_date, parse_number, parse_timestamp,
                                        parse_volume)


def write(tmp_path: Path, name: str, text: str, newline: str = "\n") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def accounted(read) -> None:
    for f in read.files:
        assert f.used + sum(f.rejected.values()) == f.rows, f
        assert f.error or any(t.source == f.path for t in read.trends), f


def one(read, **match):
    found = [t for t in read.trends if all(getattr(t, k) == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


# -- values ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [("68", 68.0), ("55.88", 55.88), ("1,204", 1204.0), ("<1", 0.5),
                                        ("23%", 23.0), ('"+3,700%"', 3700.0), ("+900%", 900.0), ("250%", 250.0),
                                        ("Breakout", BREAKOUT), ("Aumento repentino*", BREAKOUT), ("", None),
                                        ("-", None), ("33,33", 33.33)])
def test_numbers(text, value):
    assert parse_number(text) == value


def test_decimal_comma_reads_a_dot_as_thousands():
    assert parse_number("1.350", decimal_comma=True) == 1350.0
    assert parse_number("1.350") == 1.35
    with pytest.raises(ValueError):
        parse_number("20O")


@pytest.mark.parametrize("text,value", [("200K+", 200_000), ("2\u00a0mil+", 2_000), ("1\u00a0mi+", 1_000_000),
                                        ("500+", 500), ("5 mi+", 5_000_000), ("2M+", 2_000_000)])
def test_search_volumes(text, value):
    assert parse_volume(text) == value


@pytest.mark.parametrize("text,kind,iso", [
    ("2022-05-01", "date", "2022-05-01"), ("2004-01", "date", "2004-01-01"), ("5/20/2015", "date", "2015-05-20"),
    ("25/12/2015", "date", "2015-12-25"), ("Jun 4 2018", "date", "2018-06-04"), ("January 2014", "date", "2014-01-01"),
    ("Jan-04", "date", "2004-01-01"), ("9 de julho de 2026", "date", "2026-07-09"), ("13. April 2022", "date", "2022-04-13"),
    ("01/02/2019 - 01/08/2019", "date", "2019-01-02"), ("Week: 06/28/2020", "date", "2020-06-28"),
    ("6/3/2015 13:02:00", "date", "2015-06-03T13:02"), ("7:30 PM EST", "time", ""), ("8/6 16:40 EST", "noyear", ""),
    ("Harley Quinn", "", ""), ("68.50", "", "")])
def test_dates(text, kind, iso):
    assert date_kind(text) == (kind, iso)


def test_years_only_where_a_column_of_years_is_expected():
    assert date_kind("2008") == ("", "")
    assert date_kind("2008", years=True) == ("date", "2008-01-01")


@pytest.mark.parametrize("name,title,iso", [
    ("20171019_HalloweenCostumes_Frightgeist.csv", "", "2017-10-19"), ("221001_CA-Top10.xlsx", "", "2022-10-01"),
    ("2018-5-10_EurovisionDailyRanking.csv", "", "2018-05-10"), ("2018102_halloweencostumes_regionsFR.csv", "",
                                                                  "2018-10-02"),
    ("Search_Data_US_Congressional_District_03Oct2018.csv", "", "2018-10-03"),
    ("05212018_Swift_v_Sheeran_v_BTS.csv", "", "2018-05-21"), ("trending_US_7d_20260714-0105.csv", "", "2026-07-14"),
    ("Frightgeist_2018_Rankings.csv", "Based on US searches in September 2018", "2018-09-30"),
    ("multiTimeline.csv", "", "")])
def test_file_dates(name, title, iso):
    assert file_date(name, title) == iso


def test_timestamps_keep_their_offset():
    assert parse_timestamp("October 11, 2025 at 12:40:00\u202fPM UTC-7") == "2025-10-11T12:40:00-07:00"
    assert parse_timestamp("9 de julho de 2026 às 18:50:00 UTC-3") == "2026-07-09T18:50:00-03:00"
    assert parse_timestamp("") == ""


@pytest.mark.parametrize("text,context,region", [
    ("Idaho (United States)", "", "US-ID"), ("Brenham (Texas United States)", "", "US-TX:Brenham"),
    ("Alabama [us-al]", "", "US-AL"), ("Pokhara, Nepal", "", "NP:Pokhara"), ("State of Maranhão", "", "BR-MA"),
    ("Erie PA", "US", "US-PA:Erie PA"), ("Georgia", "", "GE"), ("Georgia", "US", "US-GA"), ("NSW", "AU", "AU-NSW"),
    ("Wales (United Kingdom)", "", "GB-WLS"), ("Worldwide", "", ""), ("Alsace", "FR", "FR:Alsace")])
def test_places(text, context, region):
    assert resolve(text, context)[0] == region


def test_region_from_titles_and_filter():
    assert region_in_text("Based on US searches in September 2015") == "US"
    assert region_in_text("Search interest in Michael Jordan") == ""
    assert region_in_text("20230321_pascoa_BR") == "BR"
    assert region_matches("US-CA:San Diego", "US") and region_matches("US", "us") and region_matches("BR", "")
    assert not region_matches("USX", "US") and not region_matches("GB", "US")


# -- Explore exports ------------------------------------------------------------------------------------------

def test_explore_timeline_weekly_two_terms(tmp_path):
    write(tmp_path, "multiTimeline.csv", "Category: All categories\n\nWeek,house pet: (Canada),house plant: (Canada)\n"
          "2022-05-01,40,65\n2022-05-08,<1,91\n2022-05-15,39,\n")
    read = read_trends(tmp_path)
    pet = one(read, term="house pet")
    assert pet.kind == "series" and pet.region == "CA"
    assert pet.points == (("2022-05-01", 40.0), ("2022-05-08", 0.5), ("2022-05-15", 39.0))
    assert one(read, term="house plant").points[-1] == ("2022-05-08", 91.0)
    assert read.files[0].layout == "explore-series" and read.files[0].used == 3
    accounted(read)


def test_explore_monthly_and_region_worldwide(tmp_path):
    write(tmp_path, "a/multiTimeline.csv", "Category: All categories\n\nMonth,diet: (Worldwide),gym: (Worldwide)\n"
          "2004-01,100,31\n2004-02,76,27\n")
    read = read_trends(tmp_path)
    diet = one(read, term="diet")
    assert diet.source == "a/multiTimeline.csv" and diet.region == "" and diet.points[0] == ("2004-01-01", 100.0)


def test_related_queries_top_and_rising(tmp_path):
    write(tmp_path, "relatedQueries.csv", 'Category: All categories\n"Neutrogena: (12/18/22 - 12/18/23, United States)"\n'
          "\nTOP\nneutrogena hydro boost,100\nsunscreen,82\n\nRISING\n"
          'neutrogena mineral uv tint,"+3,700%"\njenna ortega,Breakout\nneutrogena purescreen,+900%\n')
    read = read_trends(tmp_path)
    top = one(read, term="sunscreen")
    assert (top.kind, top.score, top.rank, top.rising, top.category, top.region, top.dated) == (
        "related", 82.0, 2, False, "Neutrogena", "US", "2023-12-18")
    assert one(read, term="neutrogena mineral uv tint").score == 3700.0
    breakout = one(read, term="jenna ortega")
    assert breakout.rising and breakout.score == BREAKOUT and breakout.rank == 2
    accounted(read)


def test_related_queries_sheet_copy_without_top_marker_and_crlf(tmp_path):
    write(tmp_path, "relatedQueries_x - Sheet1.csv", 'Category: All categories,"retinol: (12/7/22 - 12/7/23, '
          'United States)"\nretinol cream,100\nbest retinol,29\n,\nRISING,\njenna ortega,Breakout\n'
          "adapalene,80%", newline="\r\n")
    read = read_trends(tmp_path)
    assert not one(read, term="best retinol").rising and one(read, term="adapalene").rising
    assert one(read, term="adapalene").category == "retinol"
    accounted(read)


def test_geo_map_and_dma_breakdown(tmp_path):
    write(tmp_path, "geoMap.csv", "Category: All categories\n\nCountry,diet: (1/1/04 - 12/15/17),gym: (1/1/04 - "
          "12/15/17)\nSlovenia,<1,<1\nUnited Kingdom,46,59\n")
    write(tmp_path, "interestPA.csv", "Category: All categories\n\nDMA,fried chicken: (3/5/20 - 3/5/21)\n"
          "Wilkes Barre-Scranton PA,100\nErie PA,95\n")
    read = read_trends(tmp_path)
    assert one(read, term="gym", region="GB").score == 59.0 and one(read, term="diet", region="SI").score == 0.5
    assert one(read, term="fried chicken", region="US-PA:Erie PA").kind == "geo"
    accounted(read)


# -- Trending now ---------------------------------------------------------------------------------------------

def test_trending_now_english(tmp_path):
    write(tmp_path, "trending_US_4h_20251011-1633.csv",
          '"Trends","Search volume","Started","Ended","Trend breakdown","Explore link"\n'
          '"indiana football","200K+","October 11, 2025 at 12:40:00\u202fPM UTC-7",,"indiana football,iu football",'
          '"https://trends.google.com/trends/explore?q=indiana%20football&geo=US&hl=en"\n')
    read = read_trends(tmp_path)
    t = one(read, term="indiana football")
    assert (t.kind, t.score, t.region, t.started, t.ended, t.rising, t.dated) == (
        "trending_now", 200000.0, "US", "2025-10-11T12:40:00-07:00", "", True, "2025-10-11")
    assert t.related == ("indiana football", "iu football")
    accounted(read)


def test_trending_now_portuguese_headers_volumes_and_relative_links(tmp_path):
    write(tmp_path, "trending_BR_7d_20260714-0053.csv",
          '"Tendências","Volume de pesquisa","Iniciado","Finalizada","Detalhamento da tendência",'
          '"Acesse a página ""Explorar"""\n'
          '"frança x espanha","200\u00a0mil+","10 de julho de 2026 às 17:50:00 UTC-3","13 de julho de 2026 às '
          '08:20:00 UTC-3","frança x espanha,bola","./explore?q=fran%C3%A7a&geo=BR"\n'
          '"argentina","1\u00a0mi+","9 de julho de 2026 às 18:50:00 UTC-3",,"argentina","./explore?q=a&geo=BR"\n'
          '"sem data","2\u00a0mil+","ontem",,"",""\n')
    read = read_trends(tmp_path)
    t = one(read, term="frança x espanha")
    assert t.score == 200_000 and t.region == "BR" and t.ended == "2026-07-13T08:20:00-03:00"
    assert one(read, term="argentina").score == 1_000_000
    f = read.files[0]
    assert f.used == 2 and f.rejected == {"header row": 1, "not a date and time": 1}
    accounted(read)


# -- official data files --------------------------------------------------------------------------------------

def test_ranking_with_title_lines_cr_only_and_trailing_commas(tmp_path):
    write(tmp_path, "20151021_HalloweenCostumes_Frightgeist.csv", "Rankings for Halloween Costumes,\nBased on US "
          "searches in September 2015,\nCostume,Rank\nHarley Quinn,1\nStar Wars,2\n,473\n", newline="\r")
    read = read_trends(tmp_path)
    t = one(read, term="Star Wars")
    assert (t.kind, t.rank, t.region, t.dated, t.category) == ("ranking", 2, "US", "2015-10-21", "Halloween Costumes")
    assert read.files[0].rejected == {"title or note line": 2, "header row": 1, "no term": 1}
    accounted(read)


def test_wide_daily_series_with_a_title_line(tmp_path):
    write(tmp_path, "20180803_heatwave.csv", '"Indexed global search interest in topics related to hot weather during '
          'summer 2018.",,,\nSearch topic,Jun 4 2018,Jun 5 2018,Jun 6 2018\nSunscreen,77,80,100\nBikini,62,,58\n')
    read = read_trends(tmp_path)
    sun = one(read, term="Sunscreen")
    assert sun.kind == "series" and sun.region == "" and sun.points[-1] == ("2018-06-06", 100.0)
    assert one(read, term="Bikini").points == (("2018-06-04", 62.0), ("2018-06-06", 58.0))
    accounted(read)


def test_long_series_takes_its_term_from_the_title(tmp_path):
    write(tmp_path, "20150526_GameTheory.csv", "Search interest in game theory by date,\ndate,search interest\n"
          "5/20/2015,17.28\n5/21/2015,17.04\n")
    t = one(read_trends(tmp_path), kind="series")
    assert t.term == "game theory" and t.points[0] == ("2015-05-20", 17.28)


def test_rankings_by_state_and_transposed_by_territory(tmp_path):
    write(tmp_path, "20191006_HalloweenCostumesbyState_Frightgeist.csv", "Most Searched Costumes by State,,,\n"
          "Costumes are shown in order of ranking,,,\nState,1,2,3\nAlaska,Pirate,IT,Elf\nGeorgia,Witch,Clown,\n"
          "Ohio,Witch,Elf,Pirate\n")
    write(tmp_path, "20231030_Australia_Halloween_costume_searches.csv", "Ranking/State,ACT,NSW\n1,Dinosaur,Barbie\n"
          "2,Cat,Dinosaur\n")
    read = read_trends(tmp_path)
    assert one(read, term="IT").region == "US-AK" and one(read, term="IT").rank == 2
    assert one(read, term="Clown").region == "US-GA"  # Georgia among states is the state
    assert one(read, term="Cat").region == "AU-ACT" and one(read, term="Barbie").rank == 1
    accounted(read)


def test_geo_table_named_by_its_title(tmp_path):
    write(tmp_path, "20191123_BlackFriday1.csv", '"Top countries searching for Black Friday, 7 days to 11/23/2018",\n'
          "Country,indexVal\nSouth Africa,100.00\nUnited States,54.22\nNowhere Land,n/a\n")
    read = read_trends(tmp_path)
    t = one(read, region="ZA")
    assert (t.term, t.kind, t.score) == ("Black Friday", "geo", 100.0)
    assert read.files[0].rejected["no value"] == 1
    accounted(read)


def test_growth_table_in_portuguese_is_rising(tmp_path):
    write(tmp_path, "20230321_pascoa_BR.csv", "Ovo de Páscoa: perguntas com maior crescimento no Brasil,\n"
          "Pergunta,Crescimento (em %)\nComo fazer Ovo de Páscoa?,1.350\nQue dia é a Páscoa?,Aumento repentino*\n"
          "Onde comprar?,20O\n")
    read = read_trends(tmp_path)
    assert one(read, rank=1).score == 1350.0 and one(read, rank=1).region == "BR"
    breakout = one(read, score=BREAKOUT)
    assert breakout.kind == "related" and breakout.rising
    assert read.files[0].rejected["not a number: '20O'"] == 1
    accounted(read)


def test_single_column_lists_and_prose(tmp_path):
    write(tmp_path, "20160913_CandidateQuestions.csv", '"Top trending questions on candidates, 9/13/2016"\n\n'
          "Top trending questions on Jane Doe in the past day:\n1. Is Jane Doe tall?\n2. Where is Jane Doe from?\n")
    write(tmp_path, "prose.csv", "This commentary explains in many long words what the searches did over the year.\n"
          "Another sentence of commentary follows here with many more words than a query would ever have.\n")
    read = read_trends(tmp_path)
    q = one(read, term="Where is Jane Doe from?")
    assert q.rank == 2 and q.rising and q.category == "Top trending questions on Jane Doe in the past day"
    prose = next(f for f in read.files if f.path == "prose.csv")
    assert prose.layout == "text" and prose.error.startswith("no trend: prose")
    accounted(read)


def test_time_of_day_without_a_date_is_reported_not_raised(tmp_path):
    write(tmp_path, "20150615_NBAFinalsGame5.csv", "Search interest during Game 5,,\nx,Cavaliers,Warriors\n"
          "7:30 PM EST,9.39,12.01\n7:31 PM EST,10.36,11.75\n")
    f = read_trends(tmp_path).files[0]
    assert f.rejected["time of day without a date"] == 2 and "time of day without a date" in f.error


def test_merge_conflict_markers_keep_the_first_side(tmp_path):
    write(tmp_path, "x.csv", "<<<<<<< HEAD\nState,Rank\nKentucky,1\n=======\nState,Rank\nOhio,1\n>>>>>>> other\n")
    read = read_trends(tmp_path)
    assert [t.region for t in read.trends] == ["US-KY"]
    assert read.files[0].rejected["merge-conflict marker"] == 3
    accounted(read)


def test_workbook_categories_info_sheet_and_zip(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    info = book.active
    info.title = "Info"
    for row in ([None, "Black Friday: Top Searched Products"], [None, "Period", "11/23/2022 to 11/28/2022"]):
        info.append(row)
    sheet = book.create_sheet("Most Searched Products")
    sheet.append([None, None, "Electronics", None, "Toys"])
    sheet.append([None, "Rank", "Item", "Indexed Search Interest", "Item", "Indexed Search Interest"])
    sheet.append([None, 1, "4K TV", 100.0, "Squishmallow", 100.0])
    sheet.append([None, 2, "Nintendo Switch", 86.9, "Polly Pocket", 36.2])
    buffer = io.BytesIO()
    book.save(buffer)
    (tmp_path / "221130_US_Top10-Products.xlsx").write_bytes(buffer.getvalue())
    with zipfile.ZipFile(tmp_path / "archive.zip", "w") as z:
        z.writestr("data/vagas_grafico.csv", "Category: All categories\n\nMonth,vagas: (Brazil)\n2004-01,16\n")
        z.writestr("data/book.xlsx", buffer.getvalue())
        z.writestr("README.md", "# notes")
    read = read_trends(tmp_path)
    toy = one(read, term="Polly Pocket", source="221130_US_Top10-Products.xlsx#Most Searched Products")
    assert (toy.category, toy.rank, toy.score, toy.region, toy.dated) == ("Toys", 2, 36.2, "US", "2022-11-30")
    assert one(read, term="vagas").source == "archive.zip/data/vagas_grafico.csv"
    assert one(read, term="4K TV", source="archive.zip/data/book.xlsx#Most Searched Products").category == "Electronics"
    paths = {f.path: f for f in read.files}
    assert paths["221130_US_Top10-Products.xlsx#Info"].error.startswith("workbook information")
    assert paths["archive.zip/README.md"].error == "not a data file (.md)"
    accounted(read)


def test_broken_files_are_reported_never_raised(tmp_path):
    (tmp_path / "junk.csv").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (tmp_path / "broken.zip").write_bytes(b"PK nope")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "notes.md").write_text("# notes")
    read = read_trends(tmp_path)
    errors = {f.path: f.error for f in read.files}
    assert set(errors) == {"junk.csv", "broken.xlsx", "broken.zip", "empty.csv", "notes.md"}
    assert all(errors.values()), errors
    assert errors["empty.csv"] == "empty file" and "workbook" in errors["broken.xlsx"]


def test_a_single_file_path(tmp_path):
    path = write(tmp_path, "sub/multiTimeline.csv", "Category: All categories\n\nDay,x: (United States)\n"
                 "2024-01-01,5\n")
    read = read_trends(path)
    assert [t.source for t in read.trends] == ["multiTimeline.csv"] and read.trends[0].region == "US"
