"""The rules of the city's heating-service standard (《威海市城镇供热服务规范》), as pure code.

One home for them, imported by both environments: the backend (Python 3.11) and the conversation side
(Rasa, Python 3.10). No I/O, no clock reads, no framework imports; the caller passes ``now``, the
working-day calendar and the operator's facts. Written for Python 3.10.

- ``orders``: what an order is (kind, category, source, status) and which orders are urgent;
- ``words``: the words staff and residents read for those codes;
- ``lifecycle``: the order's state machine, and which deadline each action meets;
- ``calendar``: working days by the State Council's schedule, with the operator's corrections;
- ``localtime``: Beijing time, whatever the machine's time zone;
- ``deadlines``: the standard's windows;
- ``operator``: the operator file's facts (seasons, calendar corrections, promises), parsed;
- ``addresses``: a resident's address, parsed the same way on both sides;
- ``sampling``: the room-temperature sampling plan (5.4);
- ``kpis``: the indicators of 14.4 against Table 1;
- ``notices``: the texts sent to residents (the outage notice of 6.3.1, a quote, a new completion time …);
- ``privacy``: personal data as staff see it by default (12.1).
"""
