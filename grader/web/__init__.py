"""`grader serve` and `grader release`: grading written answers together, in a browser, on the gradebook.

This package sits above the three layers, beside the command line and the batch (pipeline.py):
it reads results and writes TA scores through the gradebook, draws pages with the presentation
layer's templates, and sends regrades to the executors, so no student code and no grading code
ever runs in the web server's process. docs/web.md explains it for TAs.

    book.py      the web app's tables in the gradebook: rubric items, grade details, pseudonyms, settings
    answers.py   how a student's answer to a manual task is shown (Markdown with math, notebook cells, pages)
    security.py  the token in the URL, CSRF, allowed hosts, the content security policy
    app.py       the Starlette application: the queue, rubric items, live pages, release and regrade
    regrade.py   regrading one submission in a worker process
    release.py   one self-contained feedback page per student
    serve.py     starting the server (uvicorn) and printing its URL
"""
