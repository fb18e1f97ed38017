"""CSV import pages for managers and admins: upload, progress (polled by htmx), error report."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import managers_and_admins
from intake import imports
from intake.import_forms import ImportUploadForm

RECENT_IMPORTS = 20
ERRORS_SHOWN = 200


@managers_and_admins
@require_http_methods(["GET", "POST"])
def import_new(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > imports.MAX_IMPORT_BYTES:
                raise ValidationError({"file": ["The file is too large; the limit is 5 MB. Split it."]})
            job = imports.import_job_create(
                created_by=request.user,
                filename=upload.name,
                raw=upload.read(),
                source=form.cleaned_data["source"],
                owner=form.cleaned_data["owner"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            for warning in job.warnings:
                messages.warning(request, warning)
            messages.success(request, f"Importing {job.total_rows} rows from {job.filename}.")
            return redirect("leads:import_detail", pk=job.pk)
    jobs = imports.import_jobs_visible_to(request.user).defer("content", "errors")[:RECENT_IMPORTS]
    return render(request, "leads/import.html", {"form": form, "jobs": jobs}, status=400 if form.errors else 200)


@managers_and_admins
def import_detail(request, pk):
    job = imports.import_job_get_for(request.user, pk, with_content=False)
    context = {"job": job, "errors_shown": job.errors[:ERRORS_SHOWN]}
    if request.htmx:
        return render(request, "leads/_import_progress.html", context)
    return render(request, "leads/import_detail.html", context)


@managers_and_admins
def import_errors_csv(request, pk):
    job = imports.import_job_get_for(request.user, pk)
    response = HttpResponse(imports.import_errors_csv(job=job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


@managers_and_admins
@require_POST
def import_retry(request, pk):
    job = imports.import_job_get_for(request.user, pk, with_content=False)
    try:
        imports.import_job_retry(job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.info(request, "Running the import again from where it stopped.")
    return redirect("leads:import_detail", pk=job.pk)
