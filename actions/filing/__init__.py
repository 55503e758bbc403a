"""Filing a complaint, repair, temperature test or business request: the form and the order.

The order's kind and category come from the intent that started the filing (``slots``); the form asks only
for what that kind needs, confirms known residents' details instead of asking again (``form``), and shows
a summary before anything is filed (``payload``); the actions start, confirm, file and cancel (``actions``).
"""
