"""The task queue: taskiq broker selection and the start-ride task."""
