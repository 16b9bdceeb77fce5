"""The Lambda handlers of /images: images.py (the images themselves), trash.py (the trash and
the history), and what they both read from an API Gateway event and write in its answer
(events.py). Django-free."""
