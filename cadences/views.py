from django.http import HttpResponse

from accounts.decorators import admins_only


@admins_only
def cadence_list(request):
    return HttpResponse("Cadences: work in progress")
