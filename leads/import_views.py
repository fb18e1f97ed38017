from django.http import HttpResponse

from accounts.decorators import managers_and_admins


@managers_and_admins
def import_new(request):
    return HttpResponse("Import: work in progress")
