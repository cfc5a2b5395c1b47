"""
Renderers: findings and test records (plain data from ``core``) turned into
what people and CI read: the text block, the end-of-run summary, JSON,
JUnit XML, GitHub annotations, and the report files written from them.
"""
