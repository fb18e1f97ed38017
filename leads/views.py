from django.http import HttpResponse

from accounts.decorators import role_required
from accounts.models import Role

any_role = role_required(Role.REP, Role.MANAGER, Role.ADMIN)


@any_role
def lead_list(request):
    return HttpResponse("Lead list: work in progress")


@any_role
def lead_intake(request):
    return HttpResponse("Intake: work in progress")


@any_role
def lead_detail(request, pk):
    return HttpResponse("Lead: work in progress")
