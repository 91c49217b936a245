"""Everything kravsync renders for people: the plan (``views``), the data-quality and receivables
report (``report``), status (``status``), the letters (``notices``), the legal figures
(``rates``), and the escaping all of them share (``textsafe``)."""
