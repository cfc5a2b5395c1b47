"""
A small suite that shows the reporter at work: ``python -m trial_strictclean.demo``.

``scenarios`` holds clean tests and dirty ones, in the spirit of "How to
Disconnect in Twisted, Really": a server, a client, and what happens when a
test does not wait for each of them to go away.
"""
