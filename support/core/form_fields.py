"""Form fields shared by every page's forms."""

from __future__ import annotations

from typing import Any

from wtforms import TextAreaField


class TextBoxField(TextAreaField):
    """A text box whose line breaks count as one character each, as the browser counted them
    against the box's maxlength: a form sends each as CR LF, so a question the browser let the
    customer type whole (10,000 characters in 200 lines) was refused on the server as 10,200
    characters long. What is stored reads the same (the mail side turns CR LF into LF too)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(
            [
                value.replace("\r\n", "\n") if isinstance(value, str) else value
                for value in valuelist
            ]
        )
