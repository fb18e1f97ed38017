"""The product's URLs plus the baseline endpoints, for benchmark runs only (bench.settings)."""

from django.urls import path

from bench import views
from leadfollow.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    *product_urlpatterns,
    path("_bench/list/", views.baseline_list, name="bench_list"),
    path("_bench/json/", views.baseline_json, name="bench_json"),
]
