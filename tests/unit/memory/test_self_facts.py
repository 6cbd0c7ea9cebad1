"""Self-fact detection: first-person statements of lasting facts fire; questions, hypotheticals,
negations and chatter never do (English and Russian)."""

from __future__ import annotations

import pytest

from twin.core.memory.self_facts import (
    detect_self_facts,
    split_sentences,
    statement_key,
)

POSITIVE = [
    ("my sister's name is Anna", "My sister's name is Anna.", "name"),
    ("My name is Pavel.", "My name is Pavel.", "name"),
    ("By the way, my dog's name is Rex!", "My dog's name is Rex.", "name"),
    ("I live in Berlin", "I live in Berlin.", "place"),
    ("We live in a small flat near Lisbon.", "We live in a small flat near Lisbon.", "place"),
    ("I moved to Tbilisi in 2022.", "I moved to Tbilisi in 2022.", "place"),
    ("I'm from Novosibirsk.", "I'm from Novosibirsk.", "place"),
    ("I grew up in Kazan", "I grew up in Kazan.", "place"),
    ("I work as a nurse at the city hospital.", "I work as a nurse at the city hospital.", "work"),
    ("i work at Google", "I work at Google.", "work"),
    ("I'm a software engineer.", "I'm a software engineer.", "work"),
    ("I was born in 1987 in Omsk.", "I was born in 1987 in Omsk.", "birth"),
    ("My birthday is on 3 May.", "My birthday is on 3 May.", "birth"),
    ("I'm allergic to peanuts", "I'm allergic to peanuts.", "health"),
    ("I am vegetarian.", "I am vegetarian.", "health"),
    ("I'm 34", "I'm 34.", "age"),
    ("I have a dog called Rex.", "I have a dog called Rex.", "family"),
    ("I have two older brothers.", "I have two older brothers.", "family"),
    ("I'm married to Maria.", "I'm married to Maria.", "family"),
    ("My sister Anna lives in Riga.", "My sister Anna lives in Riga.", "family"),
    ("My favourite colour is green.", "My favourite colour is green.", "fact"),
    ("I speak Russian and Georgian.", "I speak Russian and Georgian.", "fact"),
    ("Remember that my wife is called Olga.", "My wife is called Olga.", "name"),
    ("меня зовут Павел", "Меня зовут Павел.", "name"),
    ("моя сестра Анна", "Моя сестра Анна.", "name"),
    ("Мою сестру зовут Анна.", "Мою сестру зовут Анна.", "name"),
    ("Кстати, моего кота зовут Барсик.", "Моего кота зовут Барсик.", "name"),
    ("я живу в Берлине", "Я живу в Берлине.", "place"),
    ("Мы переехали в Казань.", "Мы переехали в Казань.", "place"),
    ("Я родом из Томска.", "Я родом из Томска.", "place"),
    ("я работаю врачом", "Я работаю врачом.", "work"),
    ("Я работаю в Яндексе программистом.", "Я работаю в Яндексе программистом.", "work"),
    ("Я программист.", "Я программист.", "work"),
    ("Я родился в 1990 году в Омске.", "Я родился в 1990 году в Омске.", "birth"),
    ("у меня есть собака", "У меня есть собака.", "family"),
    ("У меня двое детей.", "У меня двое детей.", "family"),
    ("У меня аллергия на орехи.", "У меня аллергия на орехи.", "health"),
    ("Мне 34 года", "Мне 34 года.", "age"),
    ("Я вегетарианка.", "Я вегетарианка.", "health"),
    ("Мой любимый цвет — зелёный.", "Мой любимый цвет — зелёный.", "fact"),
    ("Запомни, что моя жена Ольга.", "Моя жена Ольга.", "name"),
    ("Я говорю по-английски.", "Я говорю по-английски.", "fact"),
]

NEGATIVE = [
    "What is my sister's name?",
    "what's my sister's name",
    "Is my sister's name Anna?",
    "my sister's name is what?",
    "Where do I live?",
    "Do you know where I live",
    "Tell me what my name is.",
    "Remind me where I work.",
    "If my sister's name is Anna, what would she say?",
    "If I lived in Berlin I would be happy.",
    "I would live in Berlin if I could.",
    "Maybe I live in Berlin.",
    "I wish I lived in Paris.",
    "Suppose I work as a pilot.",
    "I don't live in Berlin any more.",
    "I'm not allergic to anything.",
    "I never worked at Google.",
    "He said my name is Bob.",
    "What did I write about the fire in 1666?",
    "Summarise my diary for March.",
    "I have a headache today.",
    "I think the answer is wrong.",
    "I like this answer.",
    "Thanks!",
    "My question is about the fire.",
    "my sister loves cooking",
    "как зовут мою сестру?",
    "Где я живу?",
    "Как меня зовут",
    "Скажи, где я работаю.",
    "Если бы я жил в Берлине, я был бы счастлив.",
    "Я бы жил в Берлине.",
    "Может быть, я живу в Берлине.",
    "Я не живу в Берлине.",
    "У меня нет собаки.",
    "Моя сестра любит готовить.",
    "Живу ли я в Берлине",
    "Что я делал весной 1660 года?",
    "Хочу жить в Париже.",
    "Расскажи про мою сестру.",
    "",
]


@pytest.mark.parametrize(("text", "statement", "kind"), POSITIVE)
def test_first_person_facts_are_found(text: str, statement: str, kind: str) -> None:
    facts = detect_self_facts(text)
    assert [(f.statement, f.kind) for f in facts] == [(statement, kind)]


@pytest.mark.parametrize("text", NEGATIVE)
def test_questions_hypotheticals_negations_and_chatter_never_fire(text: str) -> None:
    assert detect_self_facts(text) == []


def test_several_sentences_some_facts_no_duplicates() -> None:
    text = ("Hi! My name is Pavel. What did I do in 1660? I live in Berlin.\n"
            "By the way, my name is Pavel. Если бы я жил в Москве… Я работаю врачом")
    assert [f.statement for f in detect_self_facts(text)] == [
        "My name is Pavel.", "I live in Berlin.", "Я работаю врачом."]


def test_long_sentences_are_not_offered() -> None:
    assert detect_self_facts("I live in " + "a very long place " * 20) == []


def test_statement_key_ignores_case_punctuation_and_yo() -> None:
    assert statement_key("My sister's name is Anna.") == statement_key("my SISTER'S name is anna")
    assert statement_key("Мой любимый цвет — зелёный.") == statement_key("мой любимый цвет зеленый")


def test_split_sentences() -> None:
    assert split_sentences("One. Two? Three!\nFour; five") == ["One.", "Two?", "Three!", "Four;", "five"]
