"""Shared snippets: managers and admins list, create, edit and delete them; reps get 403."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from accounts.decorators import managers_and_admins
from cadences.models import Snippet
from cadences.snippet_pages.forms import SnippetForm
from cadences.snippets import snippet_create, snippet_delete, snippet_update
from leads.forms import add_service_errors


@managers_and_admins
def snippet_list(request):
    snippets = Snippet.objects.select_related("created_by").order_by("channel", "title")
    return render(request, "cadences/snippets/list.html", {"snippets": snippets})


def _save(request, *, snippet: Snippet | None):
    initial = {} if snippet is None else {f: getattr(snippet, f) for f in ("title", "channel", "subject", "body")}
    form = SnippetForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if snippet is None:
                snippet_create(by=request.user, **form.cleaned_data)
            else:
                snippet_update(snippet=snippet, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Snippet “{form.cleaned_data['title']}” saved.")
            return redirect("snippets")
    return render(request, "cadences/snippets/form.html", {"form": form, "snippet": snippet})


@managers_and_admins
def snippet_create_view(request):
    return _save(request, snippet=None)


@managers_and_admins
def snippet_edit_view(request, pk):
    return _save(request, snippet=get_object_or_404(Snippet, pk=pk))


@managers_and_admins
def snippet_delete_view(request, pk):
    snippet = get_object_or_404(Snippet, pk=pk)
    if request.method == "POST":
        snippet_delete(snippet=snippet, by=request.user)
        messages.success(request, f"Snippet “{snippet.title}” deleted.")
        return redirect("snippets")
    return render(request, "cadences/snippets/delete.html", {"snippet": snippet})
